//go:build !unix

package memo

import "os"

func mapFile(path string) ([]byte, func() error, error) {
	data, err := os.ReadFile(path)
	if data == nil && err == nil {
		data = []byte{}
	}
	return data, nil, err
}
