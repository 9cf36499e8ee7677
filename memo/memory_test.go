package memo_test

import (
	"testing"

	"github.com/starflow-hpc/starflow/memo"
	"github.com/starflow-hpc/starflow/memo/memotest"
)

func TestMemoryConformance(t *testing.T) {
	t.Parallel()
	memotest.Run(t, func(t *testing.T) memo.Store { return memo.NewMemory() })
}
