//! pdf renderer (in progress).
