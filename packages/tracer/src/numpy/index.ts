/** The numpy-like namespace (`np`). */
export * from "./math";
export * from "./shape";
export * from "./reduce";
export { floorDivide, tri, tril, triu, split, finfo, iinfo, type FInfo } from "./extras";
export * as linalg from "./norm";
export * from "./linalg";
export * from "./creation";
export { index, at, IndexUpdateRef, type Index, type IndexList, type AtGetOptions, type AtUpdateOptions } from "./indexing";
export { take, takeAlongAxis, flip, type TakeMode, type TakeOptions, type TakeAlongAxisOptions } from "./take";
export type { ReduceOptions } from "./reduce";
export { array } from "../values";
export { sort, argsort, type SortingOptions } from "./sorting";
