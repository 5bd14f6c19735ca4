//! oscal renderer (in progress).
