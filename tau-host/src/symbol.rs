//! What the dynamic loader knows about an exported symbol: its kind and
//! size, so that `TAU_PLUGIN` is known to be a data object big enough for a
//! header before any of its bytes are read.

/// The size of the data object at `address` (an address `dlsym` returned),
/// or an error if the symbol there is not a data object. `None` where the
/// platform's loader does not tell (everywhere but Linux with glibc).
pub(crate) fn object_size(address: *const std::ffi::c_void) -> Result<Option<usize>, String> {
    imp::object_size(address)
}

#[cfg(all(target_os = "linux", target_env = "gnu"))]
mod imp {
    use std::ffi::{c_void, CStr};

    /// `dladdr1`'s request for the symbol's ELF entry.
    const RTLD_DL_SYMENT: libc::c_int = 1;
    const STT_OBJECT: u8 = 1;
    const STT_FUNC: u8 = 2;

    pub(super) fn object_size(address: *const c_void) -> Result<Option<usize>, String> {
        let mut info: libc::Dl_info = unsafe { std::mem::zeroed() };
        let mut entry: *mut libc::Elf64_Sym = std::ptr::null_mut();
        // SAFETY: `info` and `entry` are valid out-pointers; dladdr1 only
        // looks the address up in the loader's tables.
        let found = unsafe {
            libc::dladdr1(
                address,
                &mut info,
                (&mut entry as *mut *mut libc::Elf64_Sym).cast(),
                RTLD_DL_SYMENT,
            )
        };
        if found == 0 || entry.is_null() || info.dli_sname.is_null() || !std::ptr::eq(info.dli_saddr, address)
        {
            return Err("the loader cannot say what `TAU_PLUGIN` is".to_string());
        }
        // SAFETY: dladdr1 filled `entry` with a pointer into the loader's
        // symbol table, and `dli_sname` with a NUL-terminated name.
        let (entry, name) = unsafe { (&*entry, CStr::from_ptr(info.dli_sname)) };
        if name.to_bytes() != b"TAU_PLUGIN" {
            return Err(format!("the address of `TAU_PLUGIN` belongs to `{}`", name.to_string_lossy()));
        }
        match entry.st_info & 0xf {
            STT_OBJECT => Ok(Some(entry.st_size as usize)),
            STT_FUNC => Err("`TAU_PLUGIN` is a function, not the data a tau header is".to_string()),
            kind => Err(format!(
                "`TAU_PLUGIN` is a symbol of ELF type {kind}, not the data object a tau header is"
            )),
        }
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
mod imp {
    pub(super) fn object_size(_address: *const std::ffi::c_void) -> Result<Option<usize>, String> {
        Ok(None)
    }
}
