/** The stable code of the error `run` throws (undefined when it does not throw), for table tests. */
import { isNapError } from '../../shared/errors.ts';

export function errorCode(run: () => unknown): string | undefined {
  try {
    run();
    return undefined;
  } catch (error) {
    return isNapError(error) ? error.code : 'not a NapError';
  }
}
