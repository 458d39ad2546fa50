//! qualify-rules
