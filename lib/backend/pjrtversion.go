//go:build !noxla

package backend

/*
#cgo LDFLAGS: -ldl
#include <dlfcn.h>
#include <stdlib.h>
#include <stddef.h>
#include <stdio.h>

// The first fields of PJRT_Api, as every version of pjrt_c_api.h lays them out: a struct size,
// an extension pointer, then the PJRT_Api_Version struct. Nothing past them is read.
typedef struct {
	size_t struct_size;
	void* extension_start;
	int major_version;
	int minor_version;
} blockrec_pjrt_version;

typedef struct {
	size_t struct_size;
	void* extension_start;
	blockrec_pjrt_version version;
} blockrec_pjrt_api_head;

typedef const blockrec_pjrt_api_head* (*blockrec_get_api_fn)(void);

// blockrec_read_pjrt_version dlopens path, calls its GetPjrtApi and reads the API version.
// It returns 0 on success, 1 if dlopen failed, 2 if GetPjrtApi is missing, 3 if it returned NULL.
// The library is left loaded (go-xla loads the same file next; dlopen is reference counted).
static int blockrec_read_pjrt_version(const char* path, int* major, int* minor, char* err, size_t errlen) {
	void* h = dlopen(path, RTLD_LAZY | RTLD_LOCAL); // the flags go-xla uses: one load, shared
	if (h == NULL) {
		const char* e = dlerror();
		snprintf(err, errlen, "%s", e ? e : "unknown dlopen error");
		return 1;
	}
	blockrec_get_api_fn fn = (blockrec_get_api_fn)dlsym(h, "GetPjrtApi");
	if (fn == NULL) {
		return 2;
	}
	const blockrec_pjrt_api_head* api = fn();
	if (api == NULL) {
		return 3;
	}
	*major = api->version.major_version;
	*minor = api->version.minor_version;
	return 0;
}
*/
import "C"

import (
	"debug/elf"
	"fmt"
	"os"
	"strings"
	"unsafe"
)

func readHead(path string, n int) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	buf := make([]byte, n)
	k, _ := f.Read(buf)
	return buf[:k], nil
}

// checkELF makes sure path is a whole ELF shared library exporting GetPjrtApi before it is mapped:
// dlopen of a truncated file succeeds and then dies with SIGBUS when a page past its end is read.
func checkELF(path string) error {
	info, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("PJRT plugin %s: %v", path, err)
	}
	if head, err := readHead(path, 4); err != nil {
		return fmt.Errorf("PJRT plugin %s: %v", path, err)
	} else if string(head) != "\x7fELF" {
		return fmt.Errorf("PJRT plugin %s is not a shared library (no ELF header)", path)
	}
	f, err := elf.Open(path)
	if err != nil {
		return fmt.Errorf("PJRT plugin %s is not a valid ELF shared library (truncated or not a .so?): %v", path, err)
	}
	defer f.Close()
	if f.Type != elf.ET_DYN {
		return fmt.Errorf("PJRT plugin %s is an ELF file of type %s, not a shared library", path, f.Type)
	}
	size := uint64(info.Size())
	for _, p := range f.Progs {
		if p.Off+p.Filesz > size {
			return fmt.Errorf("PJRT plugin %s is truncated: a segment ends at byte %d, the file has %d", path, p.Off+p.Filesz, size)
		}
	}
	for _, s := range f.Sections {
		if s.Type != elf.SHT_NOBITS && s.Offset+s.FileSize > size {
			return fmt.Errorf("PJRT plugin %s is truncated: section %s ends at byte %d, the file has %d", path, s.Name, s.Offset+s.FileSize, size)
		}
	}
	syms, err := f.DynamicSymbols()
	if err != nil {
		return fmt.Errorf("PJRT plugin %s: cannot read its dynamic symbols: %v", path, err)
	}
	for _, s := range syms {
		if s.Name == "GetPjrtApi" && elf.ST_TYPE(s.Info) == elf.STT_FUNC && s.Section != elf.SHN_UNDEF {
			return nil
		}
	}
	return fmt.Errorf("%s is a shared library but not a PJRT plugin (it exports no GetPjrtApi)", path)
}

// readPluginAPIVersion loads the PJRT plugin at path and returns the PJRT C API version it reports,
// without initialising it (an incompatible plugin must be refused before go-xla calls into it).
func readPluginAPIVersion(path string) (major, minor int, err error) {
	if err := checkELF(path); err != nil {
		return 0, 0, err
	}
	cpath := C.CString(path)
	defer C.free(unsafe.Pointer(cpath))
	var cmajor, cminor C.int
	errBuf := make([]byte, 512)
	rc := C.blockrec_read_pjrt_version(cpath, &cmajor, &cminor, (*C.char)(unsafe.Pointer(&errBuf[0])), C.size_t(len(errBuf)))
	switch rc {
	case 0:
		return int(cmajor), int(cminor), nil
	case 1:
		msg := C.GoString((*C.char)(unsafe.Pointer(&errBuf[0])))
		// dlerror repeats the path at the front ("/p.so: invalid ELF header"): keep only the reason.
		msg = strings.TrimPrefix(msg, path+": ")
		return 0, 0, fmt.Errorf("cannot load %s as a shared library: %s", path, msg)
	case 2:
		return 0, 0, fmt.Errorf("%s is a shared library but not a PJRT plugin (no GetPjrtApi symbol)", path)
	default:
		return 0, 0, fmt.Errorf("%s: GetPjrtApi returned no API table", path)
	}
}
