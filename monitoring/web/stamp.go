package web

// parseStamp reads a timestamp column (monitoring.TimeLayout,
// "2006-01-02 15:04:05.000000", any number of fraction digits) as seconds
// since 1970 in the column's own clock, without allocating. The run
// page's scans read 300,000 timestamps; doing this in SQL (unixepoch plus
// the fraction) costs more than the rest of the scan. ok is false for
// NULL or text in another shape.
func parseStamp(b []byte) (secs float64, ok bool) {
	if len(b) < 19 || b[4] != '-' || b[7] != '-' || (b[10] != ' ' && b[10] != 'T') || b[13] != ':' || b[16] != ':' {
		return 0, false
	}
	num := func(i, n int) (int, bool) {
		v := 0
		for _, c := range b[i : i+n] {
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := num(0, 4)
	mo, ok2 := num(5, 2)
	d, ok3 := num(8, 2)
	h, ok4 := num(11, 2)
	mi, ok5 := num(14, 2)
	s, ok6 := num(17, 2)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6) || mo < 1 || mo > 12 || d < 1 || d > 31 {
		return 0, false
	}
	frac, scale := 0.0, 1.0
	if len(b) > 19 && b[19] == '.' {
		for _, c := range b[20:] {
			if c < '0' || c > '9' {
				break
			}
			frac = frac*10 + float64(c-'0')
			scale *= 10
		}
	}
	days := daysFromCivil(y, mo, d)
	return float64(days*86400+h*3600+mi*60+s) + frac/scale, true
}

// daysFromCivil is the number of days from 1970-01-01 to y-m-d in the
// proleptic Gregorian calendar (Howard Hinnant's algorithm).
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era--
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}
