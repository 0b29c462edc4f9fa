/**
 * @wax/tracer — arrays, pytrees, primitives, tracing to Jaxprs and the reference interpreter.
 */
import "./src/array-methods";

export { Array, ConcreteArray, type NestedArray } from "./src/array";
export { Aval } from "./src/aval";
export { type DType, type TypedArray, promoteTypes, shortDtype, isFloat, isInteger } from "./src/dtype";
export {
  WaxError,
  ShapeError,
  DTypeError,
  ConcretizationError,
  TracerLeakError,
  PytreeError,
  ArgumentError,
} from "./src/errors";
export {
  TreeDef,
  registerPytreeNode,
  treeFlatten,
  treeUnflatten,
  treeMap,
  treeLeaves,
  treeStructure,
  staticEqual,
  staticHash,
  type PytreeNodeDef,
  type IsLeaf,
} from "./src/pytree";
export { Primitive, primitives, type Params, type ParamValue } from "./src/primitive";
export { Trace, Tracer, EvalTrace, bind, bind1, currentTrace, withTrace, isTracer } from "./src/trace";
export { Jaxpr, ClosedJaxpr, Var, Literal, type Atom, type Eqn } from "./src/jaxpr";
export { JaxprTrace, JaxprTracer, traceFlat, traceFunction, type TracedFunction } from "./src/staging";
export { evalJaxpr } from "./src/interpreter";
export { makeJaxpr } from "./src/api";
export { array, asArray, type ArrayLike } from "./src/values";
export * as lax from "./src/lax";
export * as np from "./src/numpy/index";
export * as nn from "./src/nn";
export {
  zeros,
  ones,
  full,
  arange,
  linspace,
  eye,
  zerosLike,
  onesLike,
  fullLike,
} from "./src/numpy/creation";
