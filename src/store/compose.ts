/**
 * One object over stores that each do one job: callers keep one face (`store.getRequest`,
 * `store.surveys.openPulse`) while each concern keeps its own class, statements and file.
 */

/** A store's public members: its `private` ones (statements, helpers) drop out of `keyof`. */
export type Public<T> = Pick<T, keyof T>;

/**
 * Adds to `face` every method of each part, bound to its part, and returns it as `T`. A name
 * found twice (in `face` or in two parts) throws, so each method has one home. TypeScript's
 * `private` methods come along at run time; `T`, made of `Public` parts, does not name them.
 */
export function compose<T>(face: object, parts: readonly object[]): T {
  for (const part of parts) {
    const prototype = Object.getPrototypeOf(part) as object;
    for (const name of Object.getOwnPropertyNames(prototype)) {
      if (name === 'constructor') continue;
      const method: unknown = Object.getOwnPropertyDescriptor(prototype, name)?.value;
      if (typeof method !== 'function') throw new Error(`${part.constructor.name}.${name} is not a method: only methods are composed`);
      if (name in face) throw new Error(`${name} is defined twice in the composed stores`);
      Object.defineProperty(face, name, { value: method.bind(part) });
    }
  }
  return face as T;
}
