//! csv renderer (in progress).
