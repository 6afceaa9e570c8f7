package traffic

import (
	"bufio"
	"bytes"
	"errors"
	"io"
)

// lines reads a stream line by line in bounded memory: a line longer than
// max bytes is consumed but not kept. The JSONL reader reads one record per
// line with it, the GoReplay reader the lines between separators.
type lines struct {
	br  *bufio.Reader
	max int
	buf []byte // a line longer than br's buffer, reused
	// cutEnds lets the lines before a cut gzip stream (errStreamCut) be
	// read: the bytes before the cut are the last line.
	cutEnds bool
	// offset is how many bytes the lines returned so far took.
	offset int64
}

func newLines(r io.Reader, size, max int) *lines {
	return &lines{br: bufio.NewReaderSize(r, size), max: max}
}

// next returns the next line with its "\n" (the last line may lack it),
// or tooLong and no bytes for a line over max. The line is valid until the
// next call. io.EOF comes only when no bytes are left.
func (l *lines) next() (line []byte, tooLong bool, err error) {
	chunk, err := l.br.ReadSlice('\n')
	l.offset += int64(len(chunk))
	if !errors.Is(err, bufio.ErrBufferFull) {
		if l.ends(err) && len(chunk) > 0 {
			err = nil // the error comes again at the next call
		}
		if err != nil {
			return nil, false, err
		}
		if len(chunk) > l.max {
			return nil, true, nil
		}
		return chunk, false, nil
	}
	// Longer than br's buffer: gather it, up to max.
	l.buf = append(l.buf[:0], chunk...)
	for errors.Is(err, bufio.ErrBufferFull) {
		chunk, err = l.br.ReadSlice('\n')
		l.offset += int64(len(chunk))
		if !tooLong && len(l.buf)+len(chunk) > l.max {
			tooLong, l.buf = true, l.buf[:0]
		}
		if !tooLong {
			l.buf = append(l.buf, chunk...)
		}
	}
	if err != nil && !l.ends(err) {
		return nil, false, err
	}
	if tooLong {
		return nil, true, nil
	}
	return l.buf, false, nil
}

// ends reports whether a read error ends the lines, leaving the bytes
// read before it as the last line.
func (l *lines) ends(err error) bool {
	return errors.Is(err, io.EOF) || l.cutEnds && errors.Is(err, errStreamCut)
}

// trimEOL drops a line's "\n" or "\r\n".
func trimEOL(line []byte) []byte {
	return bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
}
