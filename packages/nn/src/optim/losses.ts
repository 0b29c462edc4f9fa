/**
 * Optax's losses (`optax.losses`), with its formulas and defaults. Each returns the loss per
 * example (no reduction): take `.mean()` yourself, as in Optax.
 */
import { Array, ArgumentError, asArray, isFloat, isInteger, nn, np, type ArrayLike } from "@wax/tracer";

function floatLogits(op: string, logits: ArrayLike): Array {
  const a = asArray(logits);
  if (!isFloat(a.dtype)) throw new ArgumentError(`${op}: logits must be floating point, got ${a.aval} — cast them with .astype("float32")`);
  return a;
}

function errorsOf(predictions: ArrayLike, targets: ArrayLike | null | undefined): Array {
  return targets === null || targets === undefined ? asArray(predictions) : np.subtract(predictions, targets);
}

/**
 * `0.5 * (predictions - targets)²` elementwise (Optax's `l2_loss`; `targets` defaults to 0).
 *
 * @example
 * const loss = l2Loss(model(x), y).mean();
 */
export function l2Loss(predictions: ArrayLike, targets?: ArrayLike | null): Array {
  return np.multiply(0.5, np.square(errorsOf(predictions, targets)));
}

/** `(predictions - targets)²` elementwise (Optax's `squared_error`). */
export function squaredError(predictions: ArrayLike, targets?: ArrayLike | null): Array {
  return np.square(errorsOf(predictions, targets));
}

/**
 * Huber loss (Optax's `huber_loss`): `0.5 e²` where `|e| <= delta`, `delta (|e| - 0.5 delta)`
 * beyond, with `e = predictions - targets` and default `delta = 1`.
 */
export function huberLoss(predictions: ArrayLike, targets?: ArrayLike | null, opts: { delta?: number } = {}): Array {
  const delta = opts.delta ?? 1;
  const absErrors = np.abs(errorsOf(predictions, targets));
  const quadratic = np.minimum(absErrors, delta);
  // Same as Optax: the linear part is |e| - quadratic, so the gradient is continuous at delta.
  const linear = np.subtract(absErrors, quadratic);
  return np.add(np.multiply(0.5, np.square(quadratic)), np.multiply(delta, linear));
}

/**
 * Binary cross entropy from logits (Optax's `sigmoid_binary_cross_entropy`):
 * `-labels log σ(logits) - (1 - labels) log σ(-logits)`, elementwise, computed stably.
 */
export function sigmoidBinaryCrossEntropy(logits: ArrayLike, labels: ArrayLike): Array {
  const x = floatLogits("sigmoidBinaryCrossEntropy", logits);
  // jax.nn.log_sigmoid(x) = -softplus(-x).
  const logP = np.negative(nn.softplus(np.negative(x)));
  const logNotP = np.negative(nn.softplus(x));
  return np.subtract(np.multiply(np.negative(labels), logP), np.multiply(np.subtract(1, labels), logNotP));
}

/** Options of the softmax cross entropies: the class axis (default -1, the last). */
export interface SoftmaxCrossEntropyOptions {
  axis?: number;
}

/**
 * Cross entropy between `labels` (probability distributions, e.g. one-hot) and the softmax of
 * `logits` along `axis` (Optax's `softmax_cross_entropy`): `-Σ labels · log_softmax(logits)`,
 * where a zero label contributes 0 even against a `-inf` logit. Shape: `logits` without `axis`.
 */
export function softmaxCrossEntropy(logits: ArrayLike, labels: ArrayLike, opts: SoftmaxCrossEntropyOptions = {}): Array {
  const axis = opts.axis ?? -1;
  const logProbs = nn.logSoftmax(floatLogits("softmaxCrossEntropy", logits), axis);
  const terms = np.where(np.equal(labels, 0), 0, np.multiply(labels, logProbs));
  return np.negative(np.sum(terms, axis));
}

/**
 * Softmax cross entropy with integer class labels (Optax's
 * `softmax_cross_entropy_with_integer_labels`): `logsumexp(logits) - logits[label]` along
 * `axis`. `labels` has `logits`' shape without `axis`.
 *
 * @example
 * const loss = softmaxCrossEntropyWithIntegerLabels(logits, ys).mean();  // logits f32[B,C], ys i32[B]
 */
export function softmaxCrossEntropyWithIntegerLabels(logits: ArrayLike, labels: ArrayLike, opts: SoftmaxCrossEntropyOptions = {}): Array {
  const op = "softmaxCrossEntropyWithIntegerLabels";
  const x = floatLogits(op, logits);
  const y = asArray(labels);
  if (!isInteger(y.dtype))
    throw new ArgumentError(
      `${op}: labels must be integers, got ${y.aval} — pass class indices (int32), or use softmaxCrossEntropy for one-hot labels`,
    );
  const axis = opts.axis ?? -1;
  const ax = axis < 0 ? axis + x.ndim : axis;
  if (ax < 0 || ax >= x.ndim || y.ndim !== x.ndim - 1) {
    throw new ArgumentError(
      `${op}: labels ${y.aval} must have the shape of logits ${x.aval} without axis ${axis} — one class index per example`,
    );
  }
  const labelLogits = np.squeeze(np.takeAlongAxis(x, np.expandDims(y, ax), ax), ax);
  return np.subtract(nn.logsumexp(x, { axis: ax }), labelLogits);
}
