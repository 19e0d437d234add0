/**
 * Words of a file name, for keyword search (LIST on the transfer protocol, the DHT's word keys):
 * lower-case runs of letters and digits, so "Aula_1 Redes.mp4" has the words aula, 1, redes, mp4.
 */
export function nameWords(name: string): string[] {
  return [...new Set(name.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [])];
}

/** True when `keyword` is the whole name or one of its words (case-insensitive). */
export function nameMatches(name: string, keyword: string): boolean {
  const wanted = keyword.toLowerCase();
  return name.toLowerCase() === wanted || nameWords(name).includes(wanted);
}
