//! qualify-eval
