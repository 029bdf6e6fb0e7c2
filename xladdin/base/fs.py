"""The file system at the edges of a run: what an inbox entry is, names that fit, OS errors in Chinese.

One bad inbox entry never stops a run: each entry that is not a readable submission inside the inbox
is listed with its reason. An OS error writing the add-in's own files (备份, 退回, 归档, the master)
ends the run with exit 3 and a Chinese message naming the path.
"""

from __future__ import annotations

import errno
import os
import shutil
import stat
from pathlib import Path

SUPPORTED_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".csv")
NAME_BYTES = 255  # the longest file name most file systems take, in bytes of UTF-8
_CONVERT = {".ods": "LibreOffice/OpenOffice", ".et": "WPS 表格", ".ett": "WPS 表格模板", ".numbers": "Numbers",
            ".xlsb": "Excel 二进制", ".xltx": "Excel 模板", ".xltm": "Excel 模板"}
_UNFINISHED = (".download", ".crdownload", ".part", ".partial", ".tmp", ".opdownload")


def os_reason(exc: OSError) -> str:
    """A short Chinese reason for an OS error."""
    return {
        errno.ENOSPC: "磁盘已满", errno.EDQUOT: "磁盘配额已满", errno.EACCES: "没有权限", errno.EPERM: "没有权限",
        errno.ENAMETOOLONG: "路径或文件名太长", errno.ENOENT: "文件或文件夹不存在", errno.EROFS: "磁盘只读",
        errno.EISDIR: "是一个文件夹", errno.ENOTDIR: "路径中有一段不是文件夹", errno.ELOOP: "链接循环指向",
        errno.EIO: "磁盘读写出错", errno.EBUSY: "文件正被占用",
        errno.EFBIG: "文件超过了该磁盘或系统允许的单个文件大小",
    }.get(exc.errno, "系统错误" + (f" {exc.errno}" if exc.errno else ""))


def os_advice(exc: OSError) -> str:
    """What staff can do about an OS error writing a file."""
    return {
        errno.ENOSPC: "腾出磁盘空间", errno.EDQUOT: "腾出磁盘空间",
        errno.EFBIG: "换到不限单个文件大小的磁盘（如 NTFS 格式；FAT32 格式的 U 盘单个文件不能超过 4 GB）",
        errno.EACCES: "检查文件夹权限", errno.EPERM: "检查文件夹权限", errno.EROFS: "换一个可写的文件夹",
        errno.ENAMETOOLONG: "缩短路径或文件名",
    }.get(exc.errno, "换一个文件夹")


# The machine's limits (exit 3); any other error writing a file names a target staff can change (exit 2).
MACHINE_LIMITS = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO)


def write_failed(what: str, exc: OSError) -> str:
    """One sentence for a file the add-in could not write whole (nothing half-written is left)."""
    where = f"（{exc.filename}）" if exc.filename else ""
    return f"无法写出{what}{where}：{os_reason(exc)}，未留下写了一半的文件，请{os_advice(exc)}后重新运行。"


def store_failed(exc: Exception) -> str:
    """One sentence for the history store refusing a run (sqlite3.OperationalError), by its cause."""
    text = str(exc).lower()
    if "locked" in text or "busy" in text:
        return ("历史库正被另一次运行（另一台电脑、Excel 按钮或网页上传）写入，等候后仍未结束，本次运行已停止、母表和历史库均未改动，"
                "请等那次运行结束后重新运行。")
    if "full" in text:
        reason, fix = "磁盘已满", "腾出磁盘空间"
    elif "readonly" in text or "read-only" in text:
        reason, fix = "历史库或其文件夹只读", "检查文件夹权限"
    else:
        reason, fix = f"历史库无法读写（{exc}）", "检查历史库文件和文件夹权限"
    return f"{reason}，本次运行已停止、母表和历史库均未改动，请{fix}后重新运行。"


def as_os_error(exc: BaseException) -> OSError | None:
    """An OS error however a library reports it: lxml's serialiser (openpyxl writes through it) reports a full
    disk or a file-size limit as SerialisationError("IO_ENOSPC" / "IO_EFBIG"), not as an OSError."""
    if isinstance(exc, OSError):
        return exc
    text = str(exc).strip()
    if type(exc).__name__ == "SerialisationError" and text.startswith("IO_E"):
        code = getattr(errno, text[3:], None)
        if isinstance(code, int):
            return OSError(code, os.strerror(code))
    return None


def _drop_writers(exc: BaseException) -> None:
    """Finalise now, quietly, the writers a failed write left suspended in its traceback: openpyxl's sheet
    writer is a generator that raises the same disk error again when collected, printed as a traceback
    after the run's message."""
    import gc
    import sys
    import traceback

    traceback.clear_frames(exc.__traceback__)
    exc.__traceback__ = exc.__context__ = exc.__cause__ = None
    hook, sys.unraisablehook = sys.unraisablehook, lambda _: None
    try:
        gc.collect()
    finally:
        sys.unraisablehook = hook


def write_whole(target: Path, write) -> Path:
    """target written by write(temp) into a temporary file beside it, then renamed: whole or absent; an OS
    error however reported is raised as an OSError naming target."""
    temp = target.with_name(fit_name(f".~{target.name}.tmp"))
    try:
        write(temp)
        os.replace(temp, target)
    except Exception as exc:
        error = as_os_error(exc)
        if error is None:
            raise
        error = OSError(error.errno, error.strerror, str(target))
        _drop_writers(exc)
        raise error from None
    finally:
        try:
            temp.unlink(missing_ok=True)
        except OSError:
            pass
    return target


def os_message(exc: OSError) -> str:
    """The message of an OS error that ends a run (exit 3)."""
    where = f"（{exc.filename}）" if exc.filename else ""
    return (f"写入文件时出错：{os_reason(exc)}{where}。本次运行已停止，母表未改动。"
            "请腾出磁盘空间、检查文件夹权限或缩短路径后重新运行。")


def skip_reason(path: Path, root: Path) -> str | None:
    """Why an inbox entry is not read as a submission (Chinese, says what to do), or None."""
    name = path.name
    if name.startswith("~$"):
        return "Excel/WPS 打开台账时生成的临时文件，未读取。请关闭该台账后再运行。"
    if name.startswith(".~lock."):
        return "LibreOffice 打开台账时生成的锁文件，未读取。请关闭该台账后再运行。"
    if name.startswith("."):
        return "隐藏文件（名称以“.”开头），未读取。如是台账，请去掉名称开头的“.”后重新放入。"
    if path.is_symlink():
        try:
            target = path.resolve(strict=True)
        except (OSError, RuntimeError):
            return "快捷方式（链接）指向的文件不存在或循环指向，未读取。请把台账文件本身放进收件箱。"
        if not target.is_relative_to(root):
            return "快捷方式（链接）指向收件箱以外的文件，未读取。请把台账文件本身放进收件箱。"
    try:
        info = path.stat()
    except OSError as exc:
        return f"无法读取（{os_reason(exc)}），未读取。请检查该文件。"
    if stat.S_ISDIR(info.st_mode):
        return "这是一个文件夹，其中的文件未读取。请把台账直接放在收件箱中。"
    if not stat.S_ISREG(info.st_mode):
        return "不是普通文件（如管道、设备），未读取。"
    suffix = path.suffix.lower()
    if suffix in SUPPORTED_SUFFIXES:
        return None
    if suffix in _CONVERT:
        return f"{_CONVERT[suffix]}格式（{suffix}）无法读取。请用 Excel 或 WPS 另存为 .xlsx 后重新报送。"
    if suffix in _UNFINISHED:
        return f"文件没有下载完成（{suffix}）。请重新下载，或去掉名称末尾的“{suffix}”后再放入。"
    return "不是台账文件（只读取 .xlsx、.xlsm、.xls、.csv），未读取。"


def fit_name(name: str, limit: int = NAME_BYTES) -> str:
    """A file name cut (in its stem, the suffix kept) to fit `limit` bytes of UTF-8."""
    if len(name.encode("utf-8")) <= limit:
        return name
    stem, dot, suffix = name.rpartition(".")
    if not dot or len(suffix) > 10:
        stem, suffix = name, ""
    tail = f"…{dot}{suffix}" if suffix else "…"
    room = limit - len(tail.encode("utf-8"))
    cut = stem.encode("utf-8")[:room].decode("utf-8", errors="ignore")
    return cut + tail


def copy_whole(source: Path, target: Path) -> Path:
    """Copy a file so that the target is either whole or absent (a temporary file, then renamed)."""
    temp = target.with_name(fit_name(f".~{target.name}.tmp"))
    try:
        shutil.copy2(source, temp)
        os.replace(temp, target)
    finally:
        if temp.exists():
            temp.unlink()
    return target


def relative(path: Path, base: Path) -> str:
    """A path as stored: relative to the master's folder when it is inside it."""
    try:
        return Path(os.path.relpath(path.resolve(), base.resolve())).as_posix() if path.resolve().is_relative_to(
            base.resolve()) else str(path)
    except ValueError:  # another drive on Windows
        return str(path)
