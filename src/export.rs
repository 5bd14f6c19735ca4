//! Auditor bundle: export and offline verification (in progress).
