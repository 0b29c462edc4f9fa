/**
 * @wax/tracer — arrays, pytrees, primitives, tracing to Jaxprs and the reference interpreter.
 */
import "./src/array-methods";
import "./src/transforms/jvp-rules";
import "./src/transforms/transpose-rules";
import "./src/transforms/batch-rules";

export { Array, ConcreteArray, scalar, type NestedArray } from "./src/array";
/** `Array` under a name that does not shadow the global `Array` (`import { WaxArray } from "@wax/tracer"`). */
export { Array as WaxArray } from "./src/array";
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
  AxisNameError,
  TransformError,
} from "./src/errors";
export {
  TreeDef,
  registerPytreeNode,
  treeFlatten,
  treeUnflatten,
  treeMap,
  treeLeaves,
  treeStructure,
  treeFlattenWithPath,
  keystr,
  type KeyEntry,
  staticEqual,
  staticHash,
  type PytreeNodeDef,
  type IsLeaf,
} from "./src/pytree";
export { Primitive, primitives, type Params, type ParamValue } from "./src/primitive";
export type {
  PrimName,
  ParamsOf,
  PrimitiveParamsMap,
  NoParams,
  CondParams,
  WhileParams,
  ScanParams,
  SortParams,
  GatherParams,
  ScatterParams,
} from "./src/catalogue";
export { Trace, Tracer, EvalTrace, evalTrace, bind, bind1, currentTrace, withTrace, isTracer } from "./src/trace";
export { installEagerKernels, useEagerInterpreter, type EagerKernels } from "./src/eager-dispatch";
export { Jaxpr, ClosedJaxpr, Var, Literal, type Atom, type Eqn } from "./src/jaxpr";
export { JaxprTrace, JaxprTracer, traceFlat, traceFunction, type TracedFunction } from "./src/staging";
export { evalJaxpr } from "./src/interpreter";
export { makeJaxpr } from "./src/api";
export { array, asArray, type ArrayLike } from "./src/values";
export * as lax from "./src/lax";
export * as np from "./src/numpy/index";
export * as nn from "./src/nn";
export { zeros, ones, full, arange, linspace, eye, zerosLike, onesLike, fullLike } from "./src/numpy/creation";
export { grad, valueAndGrad, vjp, vjpWithAux, jvp, type GradOptions } from "./src/transforms/grad";
export { vmap, type VmapOptions } from "./src/transforms/vmap";
export { jacfwd, jacrev, hessian, type JacobianOptions, type JacobianResult } from "./src/transforms/jacobian";
export type { AnyFn, ArrayTree, GradsOf, AuxOf, GradResult, ValueAndGradResult } from "./src/transforms/types";
export { linearizeFlat, jvpFlat, JVPTrace, JVPTracer } from "./src/transforms/jvp";
export { backwardPass } from "./src/transforms/transpose";
export { BatchTrace, BatchTracer } from "./src/transforms/vmap";
export { UndefinedPrimal } from "./src/transforms/rules";
export type { JvpRule, TransposeRule, BatchRule, JvpRules, TransposeRules, BatchRules, MaybeZero, BatchDims } from "./src/transforms/rules";
export { jvpRules, transposeRules, batchRules } from "./src/transforms/tables";
export { psum, pmean, pmax, pmin, axisIndex, allGather } from "./src/collectives";
export { stopGradient } from "./src/lax";
export { axisEnvKey } from "./src/axis-env";
export { customJvp, customJvpRegistrySize, type CustomJvpRule } from "./src/custom-jvp";
export { customVjp, customVjpRegistrySize, type CustomVjpFunction, type VjpFwd, type VjpBwd, type VjpCotangents } from "./src/custom-vjp";
export { checkpoint } from "./src/checkpoint";
export * as random from "./src/random";
