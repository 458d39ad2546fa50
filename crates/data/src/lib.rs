//! qualify-data
