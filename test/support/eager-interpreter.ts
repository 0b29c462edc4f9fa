/**
 * Test setup: eager primitives run in the reference interpreter, the executable specification
 * that compiled code (jitted functions, and the compiled eager kernels @wax/compiler installs)
 * is compared against. Tests of the compiled eager kernels switch them on themselves.
 */
import { useEagerInterpreter } from "@wax/tracer";

useEagerInterpreter(true);
