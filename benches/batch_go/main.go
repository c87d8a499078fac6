// The batch a Go user would otherwise write: a pool of goroutines on one net/http client.
//
// Reads IN.csv (name, idcard, mobile), posts each row to telecom3 (plain, or AES-128-ECB with
// the key from the openid: the same form fields as juhe-rs), parses the JSON answer and writes
// OUT.csv (through a buffer, flushed at the end). Used by benches/batch_peers.sh as a peer of
// `juhe batch`.
//
//	go run benches/batch_go/main.go BASE_URL KEY MODE CONCURRENCY IN.csv OUT.csv [OPENID]
package main

import (
	"bufio"
	"crypto/aes"
	"crypto/md5"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"
)

type answer struct {
	ErrorCode int             `json:"error_code"`
	Reason    string          `json:"reason"`
	Result    json.RawMessage `json:"result"`
}

type telecom3Result struct {
	Res     json.Number `json:"res"`
	Rescode json.Number `json:"rescode"`
}

func main() {
	if len(os.Args) < 7 {
		fmt.Fprintln(os.Stderr, "usage: BASE_URL KEY MODE CONCURRENCY IN.csv OUT.csv [OPENID]")
		os.Exit(2)
	}
	base, key, mode := os.Args[1], os.Args[2], os.Args[3]
	concurrency, _ := strconv.Atoi(os.Args[4])
	encrypt, endpoint := func(s string) string { return s }, "/telecom3/query"
	if mode == "aes" {
		sum := md5.Sum([]byte(os.Args[7]))
		block, _ := aes.NewCipher([]byte(hex.EncodeToString(sum[:])[:16]))
		encrypt, endpoint = func(s string) string { return aesECB(block.Encrypt, s) }, "/telecom3/queryEncry"
	}
	rows := readRows(os.Args[5])
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConns: concurrency, MaxIdleConnsPerHost: concurrency, MaxConnsPerHost: concurrency,
	}}
	out := make([][]string, len(rows))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for w := 0; w < concurrency; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				out[i] = check(client, base+endpoint, key, encrypt, rows[i])
			}
		}()
	}
	for i := range rows {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	writeRows(os.Args[6], out)
}

func check(client *http.Client, endpoint, key string, encrypt func(string) string, row []string) []string {
	form := url.Values{"key": {key}, "realname": {encrypt(row[0])}, "idcard": {encrypt(row[1])}, "mobile": {encrypt(row[2])}}
	resp, err := client.Post(endpoint, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()))
	if err != nil {
		return append(row, "", err.Error(), "", "")
	}
	defer resp.Body.Close()
	var a answer
	if err := json.NewDecoder(resp.Body).Decode(&a); err != nil {
		return append(row, "", err.Error(), "", "")
	}
	var r telecom3Result
	_ = json.Unmarshal(a.Result, &r)
	return append(row, strconv.Itoa(a.ErrorCode), a.Reason, r.Res.String(), r.Rescode.String())
}

func aesECB(encrypt func(dst, src []byte), text string) string {
	pad := 16 - len(text)%16
	buf := append([]byte(text), make([]byte, pad)...)
	for i := len(text); i < len(buf); i++ {
		buf[i] = byte(pad)
	}
	for i := 0; i < len(buf); i += 16 {
		encrypt(buf[i:i+16], buf[i:i+16])
	}
	return base64.StdEncoding.EncodeToString(buf)
}

func readRows(path string) [][]string {
	f, err := os.Open(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	all, err := csv.NewReader(f).ReadAll()
	if err != nil {
		panic(err)
	}
	return all[1:]
}

func writeRows(path string, rows [][]string) {
	f, err := os.Create(path)
	if err != nil {
		panic(err)
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	c := csv.NewWriter(w)
	c.Write([]string{"name", "idcard", "mobile", "error_code", "reason", "res", "rescode"})
	c.WriteAll(rows)
	w.Flush()
}
