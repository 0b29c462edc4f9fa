/**
 * Error classes of wax. Every message has the form
 * `<op>: <what is wrong, with the values> — <what to do>`.
 */

/** Base class of every error wax throws on purpose. */
export class WaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = new.target.name;
  }
}

/** A shape, rank or axis that an op cannot accept. */
export class ShapeError extends WaxError {}

/** A dtype that an op cannot accept (e.g. a bitwise op on floats). */
export class DTypeError extends WaxError {}

/** Reading the value of a traced array (branching on it, `.data`, `Number(x)`). */
export class ConcretizationError extends WaxError {}

/** A tracer used after the trace that made it ended (it leaked out of the function). */
export class TracerLeakError extends WaxError {}

/** A pytree that cannot be flattened/unflattened as asked (mismatched structure, bad registration). */
export class PytreeError extends WaxError {}

/** A value that is not an array where an array is required, or another misuse of the API. */
export class ArgumentError extends WaxError {}

/** A collective over an axis name that no enclosing `vmap` binds. */
export class AxisNameError extends WaxError {}

/** A transform applied to a function it cannot handle (non-scalar grad output, int inputs, ...). */
export class TransformError extends WaxError {}
