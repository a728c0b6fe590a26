package phases

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// ReadMatrixCSV reads a matrix written as CSV, one row per line, no header. Fields are trimmed of
// spaces; "NaN" parses (ValidateMatrix rejects it). It checks only that every row has the same
// number of fields as the first and that all fields are numbers; use ValidateMatrix for the rest.
func ReadMatrixCSV(r io.Reader) ([][]float64, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	records, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("reading CSV: %w", err)
	}
	var m [][]float64
	for i, rec := range records {
		if len(rec) != len(records[0]) {
			return nil, fmt.Errorf("row %d has %d values but row 1 has %d", i+1, len(rec), len(records[0]))
		}
		row := make([]float64, len(rec))
		for j, f := range rec {
			x, err := strconv.ParseFloat(strings.TrimSpace(f), 64)
			if err != nil {
				return nil, fmt.Errorf("row %d, column %d: %q is not a number", i+1, j+1, f)
			}
			row[j] = x
		}
		m = append(m, row)
	}
	if len(m) == 0 {
		return nil, fmt.Errorf("no rows")
	}
	return m, nil
}

// WriteMatrixCSV writes m as CSV, one row per line, no header, with the shortest representation
// that reads back exactly.
func WriteMatrixCSV(w io.Writer, m [][]float64) error {
	cw := csv.NewWriter(w)
	for _, row := range m {
		rec := make([]string, len(row))
		for j, x := range row {
			rec[j] = strconv.FormatFloat(x, 'g', -1, 64)
		}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}
