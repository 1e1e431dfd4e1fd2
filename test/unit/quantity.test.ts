import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatQuantity, parseQuantity, sumResources } from '../../src/lib/quantity.ts';

test('Kubernetes quantities parse with decimal and binary suffixes; anything else is not a quantity', async () => {
  assert.deepEqual(parseQuantity('500m'), { value: 0.5, binary: false });
  assert.deepEqual(parseQuantity('2'), { value: 2, binary: false });
  assert.deepEqual(parseQuantity('4Gi'), { value: 4 * 2 ** 30, binary: true });
  assert.deepEqual(parseQuantity('1.5G'), { value: 1.5e9, binary: false });
  assert.deepEqual(parseQuantity('1e3'), { value: 1000, binary: false });
  for (const bad of ['', 'Gi', '4GB', '4 Gi', 'four', '1.2.3']) assert.equal(parseQuantity(bad), undefined, bad);
});

test('sums are per resource and written as people read them: Gi for memory, plain numbers for CPUs', async () => {
  const sums = sumResources([
    { 'requests.cpu': '2', 'requests.memory': '4Gi', note: 'x' },
    { 'requests.cpu': '500m', 'requests.memory': '512Mi' },
  ]);
  assert.deepEqual(
    [...sums].map(([resource, q]) => `${resource} ${formatQuantity(q)}`),
    ['requests.cpu 2.5', 'requests.memory 4.5Gi'],
  );
  assert.equal(formatQuantity({ value: 256 * 2 ** 20, binary: true }), '256Mi');
});
