//! clientset: being written.
