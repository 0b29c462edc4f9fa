/** Error assertions shared by the tracer tests. */
import { expect } from "vitest";
import { WaxError } from "../../index";

export type ErrorClass = new (...args: never[]) => Error;

/** Runs `f`, expecting a `WaxError` of class `cls` (with that class's name); returns the message. */
export function thrown(cls: ErrorClass, f: () => unknown): string {
  let caught: unknown = null;
  try {
    f();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(cls);
  expect(caught).toBeInstanceOf(WaxError);
  expect((caught as Error).name).toBe(cls.name);
  return (caught as Error).message;
}
