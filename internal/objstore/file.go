package objstore

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/cortexlayer/cortexctl/internal/exitcode"
)

// partialMark is in the name of a file being written by Put: the file is
// <key>.partial-<random> until it is complete and renamed to <key>. List and
// Get never show such a file; Put and Get refuse keys that contain it.
const partialMark = ".partial-"

// fileStore keeps each object as a file under dir: key a/b is dir/a/b. Unlike
// S3, it cannot hold both a and a/b.
type fileStore struct {
	dir string // absolute
}

func openFile(dir string) (Store, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, exitcode.Errorf(exitcode.Config, "object store file://%s: %w", dir, err)
	}
	if err := os.MkdirAll(abs, 0o750); err != nil {
		return nil, exitcode.Errorf(exitcode.Config, "object store %s: cannot create the directory: %w", fileURL(abs), err)
	}
	return &fileStore{dir: abs}, nil
}

func fileURL(dir string) string { return "file://" + filepath.ToSlash(dir) }

func (s *fileStore) String() string { return fileURL(s.dir) }

// path returns the file of key, or an error for a key this store refuses.
func (s *fileStore) path(key string) (string, error) {
	if err := checkKey(key); err != nil {
		return "", err
	}
	if strings.Contains(key, partialMark) {
		return "", fmt.Errorf("invalid object key %q: %q marks unfinished files in a file:// store", key, partialMark)
	}
	return filepath.Join(s.dir, filepath.FromSlash(key)), nil
}

// Put writes body to <key>.partial-<random> beside the key's file, fsyncs
// it, and renames it over the key's file; on any error it removes the
// partial file and leaves the key as it was.
func (s *fileStore) Put(ctx context.Context, key string, body io.Reader, _ PutOptions) (int64, error) {
	target, err := s.path(key)
	if err != nil {
		return 0, fmt.Errorf("put %s: %w", s, err)
	}
	n, err := s.put(ctx, target, body)
	if err != nil {
		return 0, fmt.Errorf("put %s/%s: %w", s, key, err)
	}
	return n, nil
}

func (s *fileStore) put(ctx context.Context, target string, body io.Reader) (n int64, err error) {
	dir := filepath.Dir(target)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return 0, err
	}
	f, err := os.CreateTemp(dir, filepath.Base(target)+partialMark+"*")
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = f.Close()
			_ = os.Remove(f.Name())
		}
	}()
	br := &bodyReader{ctx: ctx, r: body}
	if _, err := io.Copy(f, br); err != nil {
		return 0, err
	}
	if err := f.Sync(); err != nil {
		return 0, err
	}
	if err := f.Close(); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := os.Rename(f.Name(), target); err != nil {
		return 0, err
	}
	// The rename is durable once the directory is synced.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		_ = d.Close()
	}
	return br.n, nil
}

func (s *fileStore) Get(ctx context.Context, key string) (io.ReadCloser, Object, error) {
	path, err := s.path(key)
	if err != nil {
		return nil, Object{}, fmt.Errorf("get %s: %w", s, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, Object{}, err
	}
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			err = ErrNotFound
		}
		return nil, Object{}, fmt.Errorf("get %s/%s: %w", s, key, err)
	}
	info, err := f.Stat()
	if err == nil && !info.Mode().IsRegular() {
		err = ErrNotFound
	}
	if err != nil {
		_ = f.Close()
		return nil, Object{}, fmt.Errorf("get %s/%s: %w", s, key, err)
	}
	return f, Object{Key: key, Size: info.Size(), Modified: info.ModTime()}, nil
}

func (s *fileStore) List(ctx context.Context, prefix string) ([]Object, error) {
	objs := []Object{}
	err := filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == s.dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || strings.Contains(d.Name(), partialMark) {
			return nil
		}
		rel, err := filepath.Rel(s.dir, path)
		if err != nil {
			return err
		}
		key := filepath.ToSlash(rel)
		if !strings.HasPrefix(key, prefix) {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil // deleted or replaced since it was read
		} else if err != nil {
			return err
		}
		objs = append(objs, Object{Key: key, Size: info.Size(), Modified: info.ModTime()})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", s, err)
	}
	// WalkDir goes in lexical order of each directory's names, which is not
	// the order of the keys ("a/b" sorts after "a.b" as a key, not as a walk).
	slices.SortFunc(objs, func(a, b Object) int { return strings.Compare(a.Key, b.Key) })
	return objs, nil
}

var _ Sweeper = (*fileStore)(nil)

// Sweep removes partial files (a Put killed before it could clean up) last
// modified more than olderThan ago.
func (s *fileStore) Sweep(ctx context.Context, olderThan time.Duration) ([]string, error) {
	var swept []string
	cutoff := time.Now().Add(-olderThan)
	err := filepath.WalkDir(s.dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if path == s.dir && errors.Is(err, fs.ErrNotExist) {
				return fs.SkipAll
			}
			return err
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		if !d.Type().IsRegular() || !strings.Contains(d.Name(), partialMark) {
			return nil
		}
		info, err := d.Info()
		if err != nil || !info.ModTime().Before(cutoff) {
			return nil //nolint:nilerr // gone since the walk read it, or still fresh: not ours to remove
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
		rel, _ := filepath.Rel(s.dir, path)
		swept = append(swept, filepath.ToSlash(rel))
		return nil
	})
	if err != nil {
		return swept, fmt.Errorf("sweep %s: %w", s, err)
	}
	return swept, nil
}

func (s *fileStore) Delete(ctx context.Context, keys ...string) error {
	for _, key := range keys {
		path, err := s.path(key)
		if err != nil {
			return fmt.Errorf("delete %s: %w", s, err)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		// A directory is no object: key a when a/b exists.
		if info, err := os.Lstat(path); err == nil && info.IsDir() {
			continue
		}
		if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("delete %s/%s: %w", s, key, err)
		}
	}
	return nil
}
