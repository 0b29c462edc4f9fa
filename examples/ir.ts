/**
 * A first look at wax: trace a small function to its Jaxpr, print it, and run it both
 * eagerly and through the Jaxpr interpreter.
 *
 * Run: npx tsx examples/ir.ts
 */
import { array, evalJaxpr, makeJaxpr, nn, np, type Array } from "@wax/tracer";

function predict(w: Array, b: Array, x: Array): Array {
  return nn.relu(x.matmul(w).add(b)).mean();
}

const w = array([
  [0.5, -1.0],
  [1.5, 2.0],
  [-0.5, 0.25],
]);
const b = array([0.1, -0.2]);
const x = np.linspace(-1, 1, 12).reshape([4, 3]);

const jaxpr = makeJaxpr(predict)(w, b, x);
console.log("Jaxpr of predict(w, b, x):");
console.log(String(jaxpr));
console.log();
console.log("eager:       ", String(predict(w, b, x)));
console.log("interpreted: ", String(evalJaxpr(jaxpr, [w, b, x])[0]));
