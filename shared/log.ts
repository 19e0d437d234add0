/** Diagnostics sink: the mains write it to stderr under --verbose; elsewhere it does nothing. */
export type Log = (message: string) => void;

export const silentLog: Log = () => {};
