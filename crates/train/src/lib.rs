//! qualify-train
