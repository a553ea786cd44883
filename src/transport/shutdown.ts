/** Shutdown callbacks run in registration order; one failing never stops the others. */
export async function runShutdownCallbacks(callbacks: Iterable<() => void | Promise<void>>): Promise<unknown[]> {
  const errors: unknown[] = [];
  for (const callback of callbacks) {
    try {
      await callback();
    } catch (error) {
      errors.push(error);
    }
  }
  return errors;
}
