/** What an operation throws, in a form table tests compare with one literal. */
import { isNapError } from '../../shared/errors.ts';

/** The stable code of the error `run` throws (undefined when it does not throw). */
export function errorCode(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return isNapError(error) ? error.code : 'not a NapError';
  }
}

/** `CODE: sentence` of the NapError `run` throws, 'accepted' when it throws nothing. */
export function refusalOf(run: () => unknown): string {
  try {
    run();
    return 'accepted';
  } catch (error) {
    return describeThrown(error);
  }
}

/** The same for an async operation. */
export async function asyncRefusalOf(run: () => Promise<unknown>): Promise<string> {
  return run().then(() => 'accepted', describeThrown);
}

function describeThrown(error: unknown): string {
  return isNapError(error) ? `${error.code}: ${error.message}` : `not a NapError: ${String(error)}`;
}
