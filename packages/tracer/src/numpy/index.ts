/** The numpy-like namespace (`np`). */
export * from "./math";
export * from "./shape";
export * from "./reduce";
export * from "./linalg";
export * from "./creation";
export { index } from "./indexing";
export type { Index } from "./indexing";
export type { ReduceOptions } from "./reduce";
export { array } from "../values";
