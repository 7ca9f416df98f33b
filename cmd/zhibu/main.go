// Command zhibu runs the zhibu service and its operator commands.
package main

import (
	"os"
	_ "time/tzdata" // the configured zone must load on machines without tzdata

	"github.com/zhibu/zhibu/cli"
)

func main() { os.Exit(cli.Main()) }
