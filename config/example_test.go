package config_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/troupehq/troupe/config"
)

func ExampleParseSize() {
	for _, s := range []string{"512", "10KiB", "1 MB", "1.5MiB"} {
		n, err := config.ParseSize(s)
		if err != nil {
			fmt.Println(err)
			continue
		}
		fmt.Println(n.Int64(), n)
	}
	// Output:
	// 512 512B
	// 10240 10KiB
	// 1000000 1000000B
	// invalid size "1.5MiB": unknown unit ".5MiB" (use B, KiB, MiB, GiB, KB, MB or GB)
}

func ExampleEnvPrefix() {
	fmt.Println(config.EnvPrefix("orders"))
	fmt.Println(config.EnvPrefix("order-api"))
	// Output:
	// ORDERS_
	// ORDER_API_
}

func ExampleLoader_Load() {
	dir, err := os.MkdirTemp("", "troupe-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	file := filepath.Join(dir, "orders.toml")
	if err := os.WriteFile(file, []byte("[http]\nbody_limit = \"1MiB\"\n"), 0o600); err != nil {
		panic(err)
	}

	cfg := config.Default()
	eff, err := config.Loader{
		Service:    "orders",
		File:       file, // as if from --config
		Environ:    []string{"ORDERS_HTTP__ADDRESS=:9000", "ORDERS_LOG__LEVEL=debug"},
		ConfigHome: dir, // keep the example away from the real ~/.config
		ConfigDirs: []string{},
	}.Load(&cfg)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(cfg.HTTP.Address, "from", eff.Source("http.address"))
	fmt.Println(cfg.HTTP.BodyLimit, "from file:", eff.Source("http.body_limit") == file)
	fmt.Println(cfg.HTTP.ShutdownTimeout, "from", eff.Source("http.shutdown_timeout"))
	fmt.Println(cfg.Log.SlogLevel())
	// Output:
	// :9000 from env ORDERS_HTTP__ADDRESS
	// 1MiB from file: true
	// 30s from default
	// DEBUG
}

func ExampleLoader_Load_errors() {
	cfg := config.Default()
	_, err := config.Loader{
		Service:    "orders",
		Environ:    []string{"ORDERS_HTTP__ADRESS=:9000", "ORDERS_HTTP__BODY_LIMIT=12XB", "ORDERS_LOG__LEVEL=verbose"},
		ConfigHome: filepath.Join(os.TempDir(), "troupe-example-none"),
		ConfigDirs: []string{},
		WorkDir:    filepath.Join(os.TempDir(), "troupe-example-none"),
	}.Load(&cfg)
	fmt.Println(err)
	// Output:
	// config: 3 problems:
	//   - http.body_limit (from env ORDERS_HTTP__BODY_LIMIT): invalid size "12XB": unknown unit "XB" (use B, KiB, MiB, GiB, KB, MB or GB)
	//   - log.level (from env ORDERS_LOG__LEVEL): must be one of "debug", "info", "warn", "error", got "verbose"
	//   - unknown key "http.adress" in env ORDERS_HTTP__ADRESS
}
