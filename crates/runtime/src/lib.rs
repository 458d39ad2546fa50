//! qualify-runtime
