//! json renderer (in progress).
