/**
 * Counters that let tests check the decoder's guarantees by structure rather than by the
 * clock. Internal: not exported from the package, read by the codec's own tests only.
 */
export const codecProbe = {
  /**
   * Work units of the last validation: one per object (array, object, Map, Set, JSON node)
   * whose contents a validator walked. Memoised revisits cost nothing. Bounded by the number
   * of distinct objects times the number of schema nodes, whatever the sharing.
   */
  validationWork: 0,
  /**
   * Errors other than CodecError that reached a decode entry point and were turned into
   * `HERALD_ERR_MALFORMED` there. Each one is a codec defect: stays 0 in every test.
   */
  defects: 0,
};
