package remote

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"golang.org/x/sync/errgroup"
)

// s3Dest is a destination in an S3-compatible object store: s3://BUCKET/PREFIX.
// Objects are keys under the prefix. Puts are atomic (S3 makes an object
// visible whole); the versioned objects (manifest, lock) are swapped with
// conditional writes (If-Match with the ETag read, If-None-Match: * to
// create), so two writers never both win.
type s3Dest struct {
	client *s3.Client
	bucket string
	prefix string // "" or ending in "/"
	url    string
	// partSize is the size from which puts are multipart, and of parts
	// (s3PartSize; smaller in tests).
	partSize int64
}

// S3 parameters a destination may carry (backup and remote params): the
// endpoint of an S3-compatible server, its region, and path-style
// addressing (the default with an endpoint).
const (
	ParamEndpoint  = "endpoint"
	ParamRegion    = "region"
	ParamPathStyle = "path_style"
	ParamProfile   = "profile"
)

// openS3 returns the destination s3://bucket/prefix. Credentials come from
// the standard places (environment, shared credentials file, a profile),
// never from params that would be stored.
func openS3(ctx context.Context, rest string, params map[string]string) (Destination, error) {
	bucket, prefix, _ := strings.Cut(rest, "/")
	if bucket == "" {
		return nil, &URLError{URL: "s3://" + rest, Reason: "it names no bucket"}
	}
	prefix = strings.Trim(prefix, "/")
	if prefix != "" {
		prefix += "/"
	}
	opts := []func(*config.LoadOptions) error{}
	if r := params[ParamRegion]; r != "" {
		opts = append(opts, config.WithRegion(r))
	} else {
		opts = append(opts, config.WithRegion("us-east-1"))
	}
	if p := params[ParamProfile]; p != "" {
		opts = append(opts, config.WithSharedConfigProfile(p))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("s3://%s: %w", rest, err)
	}
	endpoint := params[ParamEndpoint]
	pathStyle := endpoint != ""
	if v, ok := params[ParamPathStyle]; ok {
		pathStyle, _ = strconv.ParseBool(v)
	}
	client := s3.NewFromConfig(cfg, func(o *s3.Options) {
		if endpoint != "" {
			o.BaseEndpoint = aws.String(endpoint)
		}
		o.UsePathStyle = pathStyle
		o.RetryMaxAttempts = 5
		// Checksums only where the API requires them: S3-compatible
		// stores do not all know the newer ones, and cairn checks every
		// pack and chunk by its own hashes. Nor a log line per ranged
		// get that has none to validate.
		o.RequestChecksumCalculation = aws.RequestChecksumCalculationWhenRequired
		o.ResponseChecksumValidation = aws.ResponseChecksumValidationWhenRequired
		o.DisableLogOutputChecksumValidationSkipped = true
	})
	return &s3Dest{client: client, bucket: bucket, prefix: prefix, url: "s3://" + bucket + "/" + strings.TrimSuffix(prefix, "/"), partSize: s3PartSize}, nil
}

func (d *s3Dest) URL() string { return strings.TrimSuffix(d.url, "/") }

func (d *s3Dest) key(name string) (string, error) {
	if !validObjectName(name) {
		return "", fmt.Errorf("invalid object name %q", name)
	}
	return d.prefix + name, nil
}

// s3Error maps the store's answers to the destination's errors.
func s3Error(name string, err error) error {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		switch ae.ErrorCode() {
		case "NoSuchKey", "NotFound":
			return fmt.Errorf("%s: %w", name, ErrNotExist)
		case "PreconditionFailed", "ConditionalRequestConflict":
			return fmt.Errorf("%s: %w", name, ErrVersionMismatch)
		case "NoSuchBucket":
			return fmt.Errorf("%s: the bucket does not exist: %w", name, err)
		case "InvalidAccessKeyId", "SignatureDoesNotMatch", "AccessDenied":
			return fmt.Errorf("%s: the object store refused the credentials (%s): %w", name, ae.ErrorCode(), err)
		}
	}
	var re interface{ HTTPStatusCode() int }
	if errors.As(err, &re) {
		switch re.HTTPStatusCode() {
		case http.StatusNotFound:
			return fmt.Errorf("%s: %w", name, ErrNotExist)
		case http.StatusPreconditionFailed, http.StatusConflict:
			return fmt.Errorf("%s: %w", name, ErrVersionMismatch)
		}
	}
	return fmt.Errorf("%s: %w", name, err)
}

func (d *s3Dest) Get(ctx context.Context, name string, off, n int64) ([]byte, error) {
	key, err := d.key(name)
	if err != nil {
		return nil, err
	}
	in := &s3.GetObjectInput{Bucket: &d.bucket, Key: &key}
	switch {
	case n == 0:
		return []byte{}, nil
	case n > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-%d", off, off+n-1))
	case off > 0:
		in.Range = aws.String(fmt.Sprintf("bytes=%d-", off))
	}
	// A whole object is read without a range: an empty one has no byte
	// a range could start at.
	out, err := d.client.GetObject(ctx, in)
	if err != nil {
		return nil, s3Error(name, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(out.Body)
	if err != nil {
		return nil, err
	}
	if n >= 0 && int64(len(b)) != n {
		return nil, fmt.Errorf("%s: range %d+%d past the end: %w", name, off, n, io.ErrUnexpectedEOF)
	}
	return b, nil
}

func (d *s3Dest) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	key, err := d.key(name)
	if err != nil {
		return err
	}
	// Read it all first: a reader that fails midway must leave nothing,
	// and the SDK needs a seekable body to sign and retry.
	data, err := io.ReadAll(io.LimitReader(r, size+1))
	if err != nil {
		return err
	}
	if int64(len(data)) != size {
		return fmt.Errorf("%s: wrote %d bytes, want %d", name, len(data), size)
	}
	if size > d.partSize {
		return d.putMultipart(ctx, name, key, data)
	}
	_, err = d.client.PutObject(ctx, &s3.PutObjectInput{Bucket: &d.bucket, Key: &key, Body: bytes.NewReader(data), ContentLength: aws.Int64(size)})
	if err != nil {
		return s3Error(name, err)
	}
	return nil
}

// Multipart uploads: objects larger than a part go up in parts of
// s3PartSize, s3PartsInFlight at a time. The object appears only when the
// upload completes, whole; a failed upload is aborted, so the store frees
// its parts.
const (
	s3PartSize      = 16 << 20
	s3PartsInFlight = 4
)

func (d *s3Dest) putMultipart(ctx context.Context, name, key string, data []byte) error {
	up, err := d.client.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: &d.bucket, Key: &key})
	if err != nil {
		return s3Error(name, err)
	}
	abort := func(err error) error {
		// A context of its own: the upload's may be what ended.
		actx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		d.client.AbortMultipartUpload(actx, &s3.AbortMultipartUploadInput{Bucket: &d.bucket, Key: &key, UploadId: up.UploadId})
		return s3Error(name, err)
	}
	n := (len(data) + int(d.partSize) - 1) / int(d.partSize)
	parts := make([]types.CompletedPart, n)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s3PartsInFlight)
	for i := range n {
		part := data[i*int(d.partSize) : min(len(data), (i+1)*int(d.partSize))]
		g.Go(func() error {
			num := aws.Int32(int32(i + 1))
			out, err := d.client.UploadPart(gctx, &s3.UploadPartInput{Bucket: &d.bucket, Key: &key, UploadId: up.UploadId,
				PartNumber: num, Body: bytes.NewReader(part), ContentLength: aws.Int64(int64(len(part)))})
			if err != nil {
				return err
			}
			parts[i] = types.CompletedPart{ETag: out.ETag, PartNumber: num}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return abort(err)
	}
	_, err = d.client.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: &d.bucket, Key: &key, UploadId: up.UploadId,
		MultipartUpload: &types.CompletedMultipartUpload{Parts: parts}})
	if err != nil {
		return abort(err)
	}
	return nil
}

func (d *s3Dest) Stat(ctx context.Context, name string) (ObjectInfo, error) {
	key, err := d.key(name)
	if err != nil {
		return ObjectInfo{}, err
	}
	out, err := d.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &d.bucket, Key: &key})
	if err != nil {
		return ObjectInfo{}, s3Error(name, err)
	}
	info := ObjectInfo{Name: name, Size: aws.ToInt64(out.ContentLength)}
	if out.LastModified != nil {
		info.Modified = *out.LastModified
	}
	return info, nil
}

func (d *s3Dest) List(ctx context.Context, prefix string) ([]ObjectInfo, error) {
	p := d.prefix + prefix
	var out []ObjectInfo
	pages := s3.NewListObjectsV2Paginator(d.client, &s3.ListObjectsV2Input{Bucket: &d.bucket, Prefix: &p})
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			return nil, s3Error(prefix, err)
		}
		for _, o := range page.Contents {
			name := strings.TrimPrefix(aws.ToString(o.Key), d.prefix)
			info := ObjectInfo{Name: name, Size: aws.ToInt64(o.Size)}
			if o.LastModified != nil {
				info.Modified = *o.LastModified
			}
			out = append(out, info)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

func (d *s3Dest) Delete(ctx context.Context, name string) error {
	key, err := d.key(name)
	if err != nil {
		return err
	}
	if _, err := d.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &d.bucket, Key: &key}); err != nil {
		if err := s3Error(name, err); !errors.Is(err, ErrNotExist) {
			return err
		}
	}
	return nil
}

func (d *s3Dest) Load(ctx context.Context, name string) ([]byte, string, error) {
	key, err := d.key(name)
	if err != nil {
		return nil, "", err
	}
	out, err := d.client.GetObject(ctx, &s3.GetObjectInput{Bucket: &d.bucket, Key: &key})
	if err != nil {
		return nil, "", s3Error(name, err)
	}
	defer out.Body.Close()
	b, err := io.ReadAll(io.LimitReader(out.Body, maxManifestLen+1))
	if err != nil {
		return nil, "", err
	}
	return b, aws.ToString(out.ETag), nil
}

func (d *s3Dest) Swap(ctx context.Context, name string, data []byte, ifVersion string) (string, error) {
	key, err := d.key(name)
	if err != nil {
		return "", err
	}
	in := &s3.PutObjectInput{Bucket: &d.bucket, Key: &key, Body: bytes.NewReader(data), ContentLength: aws.Int64(int64(len(data)))}
	if ifVersion == "" {
		in.IfNoneMatch = aws.String("*")
	} else {
		in.IfMatch = aws.String(ifVersion)
	}
	out, err := d.client.PutObject(ctx, in)
	if err != nil {
		return "", s3Error(name, err)
	}
	return aws.ToString(out.ETag), nil
}

func (d *s3Dest) Remove(ctx context.Context, name, ifVersion string) error {
	key, err := d.key(name)
	if err != nil {
		return err
	}
	// Check the version, then delete with If-Match where the store honours
	// it; a store that ignores it leaves a window between the two.
	head, err := d.client.HeadObject(ctx, &s3.HeadObjectInput{Bucket: &d.bucket, Key: &key})
	if err != nil {
		return s3Error(name, err)
	}
	if aws.ToString(head.ETag) != ifVersion {
		return fmt.Errorf("%s: %w", name, ErrVersionMismatch)
	}
	_, err = d.client.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: &d.bucket, Key: &key, IfMatch: aws.String(ifVersion)})
	if err != nil {
		return s3Error(name, err)
	}
	return nil
}
