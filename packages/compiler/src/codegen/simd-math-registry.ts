/** Registers the SIMD transcendentals (when available) with the vector op table. */
export {};
