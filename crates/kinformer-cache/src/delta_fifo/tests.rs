//! Tests of the DeltaFIFO.
