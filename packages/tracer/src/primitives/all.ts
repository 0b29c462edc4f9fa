/** Every primitive, imported for its registration. */
export * from "./elementwise";
export * from "./structural";
export * from "./reductions";
export * from "./dot-general";
export * from "./threefry";
export { Primitive } from "../primitive";
export * from "./collectives";
export * from "./sort";
export * from "./control-flow";
export * from "./indexing";
export * from "./barrier";
