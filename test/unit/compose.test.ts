import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compose, type Public } from '../../src/store/compose.ts';

class Counter {
  private n = 0;
  add(by: number): number {
    return (this.n += by);
  }
}

class Greeter {
  constructor(private readonly name: string) {}
  greet(): string {
    return `hello ${this.name}`;
  }
}

test('a composed store calls each method on its own part, with its own state', async () => {
  const face = compose<Public<Counter> & Public<Greeter> & { label: string }>({ label: 'face' }, [new Counter(), new Greeter('ops')]);
  assert.equal(face.add(2), 2);
  assert.equal(face.add(3), 5);
  const { greet } = face;
  assert.equal(greet(), 'hello ops', 'bound to its part, even when taken off the face');
  assert.equal(face.label, 'face');
});

test('a method name found in two parts, or in the face, is refused', async () => {
  assert.throws(() => compose({}, [new Counter(), new Counter()]), /add is defined twice/);
  assert.throws(() => compose({ greet: () => 'hi' }, [new Greeter('ops')]), /greet is defined twice/);
});
