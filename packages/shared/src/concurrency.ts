/** Maps `items` through `fn` with at most `limit` calls in flight; results keep the input order. */
export async function mapConcurrent<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/**
 * `run` over batches: what is asked while a batch is in flight goes out together as the next
 * one (a lone call at once: nothing waits to fill a batch), at most `max` items a batch. `run`
 * answers the items in their order; when it fails, every call of the batch fails with it.
 */
export function batched<T, R>(run: (items: T[]) => Promise<R[]>, max: number): (item: T) => Promise<R> {
  const queue: { item: T; resolve(result: R): void; reject(err: unknown): void }[] = [];
  let inFlight = false;
  const next = () => {
    if (inFlight || queue.length === 0) return;
    inFlight = true;
    const batch = queue.splice(0, max);
    run(batch.map((waiting) => waiting.item))
      .then(
        (results) => {
          for (const [i, waiting] of batch.entries()) waiting.resolve(results[i] as R);
        },
        (err: unknown) => {
          for (const waiting of batch) waiting.reject(err);
        },
      )
      .finally(() => {
        inFlight = false;
        next();
      });
  };
  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      next();
    });
}
