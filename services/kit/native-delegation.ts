// The lightweight Request and Response keep only what the hot path reads; every other member of
// the standard class (body, json(), clone(), ...) is taken from a full native object, built the
// first time one of them is used. This wires those members onto the light class's prototype.

/** Gives `prototype` every member of `native` it does not define, read from `full(this)`. */
export function delegateToNative(prototype: object, native: object, full: (self: never) => object): void {
  Object.setPrototypeOf(prototype, native);
  for (const name of Object.getOwnPropertyNames(native)) {
    if (name === "constructor" || Object.prototype.hasOwnProperty.call(prototype, name)) continue;
    const descriptor = Object.getOwnPropertyDescriptor(native, name);
    if (descriptor?.get !== undefined) {
      Object.defineProperty(prototype, name, {
        get(this: never) {
          return (full(this) as Record<string, unknown>)[name];
        },
      });
    } else if (typeof descriptor?.value === "function") {
      Object.defineProperty(prototype, name, {
        value(this: never, ...args: unknown[]) {
          return (full(this) as Record<string, (...a: unknown[]) => unknown>)[name](...args);
        },
      });
    }
  }
}
