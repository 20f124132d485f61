/**
 * Demo bank list (seed 000 item 6) with card BIN prefixes. The prefixes are the ones the
 * sandbox and the tests use; a real deployment loads the list the partner publishes.
 */
export const DEMO_BANKS: { code: string; name: string; binPrefixes: string[] }[] = [
  { code: 'BCA', name: 'Bank Central Asia', binPrefixes: ['455633', '421570', '524169', '601100'] },
  { code: 'BRI', name: 'Bank Rakyat Indonesia', binPrefixes: ['518828', '436502', '522184'] },
  { code: 'BNI', name: 'Bank Negara Indonesia', binPrefixes: ['410505', '524325', '539973'] },
  { code: 'MANDIRI', name: 'Bank Mandiri', binPrefixes: ['461699', '437527', '515853'] },
  { code: 'CIMB', name: 'CIMB Niaga', binPrefixes: ['451249', '540912'] },
  { code: 'PERMATA', name: 'Bank Permata', binPrefixes: ['486210', '552096'] },
  { code: 'DANAMON', name: 'Bank Danamon', binPrefixes: ['479792', '524261'] },
  { code: 'BTN', name: 'Bank Tabungan Negara', binPrefixes: ['421195', '601901'] },
];
