// The benchmarks' tables as text: each column is a heading and a width, negative for left-aligned.

export type Columns = readonly (readonly [heading: string, width: number])[];

/** One line of the table: each cell padded to its column's width. */
export function tableRow(columns: Columns, cells: readonly string[]): string {
  return cells.map((cell, i) => (columns[i][1] < 0 ? cell.padEnd(-columns[i][1]) : cell.padStart(columns[i][1]))).join(" ");
}
