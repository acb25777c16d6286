"""Every fixed text the screens show, bilingual, in one place (and glyph-checked by the tests)."""

from __future__ import annotations

from kiosk.message import Message

TITLE = Message("毕业照自助拍摄", "Graduation photo booth")
HOW_IT_WORKS = (
    Message("① 出示手机二维码，或输入学号", "① Show the QR code on your phone, or type your student number"),
    Message("② 按屏幕提示站好，自动拍照", "② Follow the guide on the screen: the photo is taken by itself"),
    Message("③ 确认照片，保存到U盘", "③ Check your photo; it is saved to the USB stick"),
)
TOUCH_TO_START = Message("点击屏幕或按绿色按钮开始", "Touch the screen or press the green button to start")
SHOW_QR = Message("请把二维码对准镜头", "Hold your QR code up to the camera")
TYPE_NUMBER = Message("或输入学号", "Or type your student number")
HEAD_TOP_BAND = Message("头顶", "Head top")
EYE_BAND = Message("眼睛", "Eyes")
IS_THIS_YOU = Message("请确认您的信息", "Is this you?")
NAME = Message("姓名", "Name")
STUDENT_NUMBER = Message("学号", "Student number")
ID_NUMBER = Message("身份证号", "ID number")
THATS_ME = Message("是我", "That's me")
NOT_ME = Message("不是我", "Not me")
BEFORE_WE_START = Message("拍照前请注意", "Before the photo")
REMINDERS = (
    Message("擦干净眼镜，避免反光", "Clean your glasses; no reflections"),
    Message("摘下耳环、项链等饰品", "Take off earrings and necklaces"),
    Message("头发不要遮住眉毛和耳朵", "Keep your hair off your eyebrows and ears"),
    Message("请摘下帽子", "No hat or cap"),
)
CHECK_IN_MIRROR = Message("请对照画面检查一下", "Check yourself in the picture")
READY = Message("准备好了", "I'm ready")
BACK = Message("返回", "Back")
LOOKING = Message("请看镜头，正在检查姿势…", "Look at the camera: checking your pose…")
STEADY = Message("保持不动…", "Hold still…")
TAKING = Message("正在拍照…", "Taking the photo…")
CHECKING = Message("正在检查照片…", "Checking the photo…")
YOUR_PHOTO = Message("您的照片", "Your photo")
ACCEPT = Message("确认使用", "Use this photo")
RETAKE = Message("重拍", "Retake")
RETAKES_LEFT = Message("还可重拍 {n} 次", "{n} retakes left")
RETAKE_LEFT = Message("还可重拍 1 次", "1 retake left")
NO_RETAKES_LEFT = Message("不能再重拍了", "No retakes left")
PASSED = Message("符合标准", "Meets the standard")
WARNED = Message("符合标准（有提示）", "Meets the standard (with notes)")
FAILED = Message("不符合标准", "Does not meet the standard")
# Review of a photo with points the camera could not check (kiosk.photo.checks.confirm): the
# student confirms them; the photo is never "符合标准" then, and the registrar takes a look.
PLEASE_CONFIRM = Message("请确认以下几点", "Please confirm these points")
CANNOT_CHECK = Message("相机无法确认以下几点：", "The camera could not check these:")
I_CONFIRM = Message("我确认", "I confirm")
CONFIRMED_LOOK = Message("已确认，工作人员将人工复核", "Confirmed: staff will take a look")
SAVING = Message("正在保存照片…", "Saving your photo…")
DONE = Message("完成！", "Done!")
OK = Message("好的", "OK")
THANKS = Message("谢谢，祝毕业快乐！", "Thank you, and congratulations!")
FAILSAFE = Message("抱歉，出了点问题", "Sorry, something went wrong")
RECOVERING = Message("系统正在自动恢复，请稍候", "The booth is recovering by itself, please wait")
TECHNICIAN = Message("技术人员模式", "Technician mode")
TECHNICIAN_MISSING = Message("技术人员界面未安装", "Technician screens are not installed")
LANGUAGE_BUTTON = Message("EN", "中文")


def retakes_left(n: int) -> Message:
    """"还可重拍 3 次 / 3 retakes left", in both languages (English counts in the singular too)."""
    if n <= 0:
        return NO_RETAKES_LEFT
    if n == 1:
        return RETAKE_LEFT
    return Message(RETAKES_LEFT.zh.format(n=n), RETAKES_LEFT.en.format(n=n))


# --- the registrar's USB stick (a small status line and button on the attract screen) ----------
STICK_REMOVE = Message("安全移除U盘", "Remove USB stick safely")
STICK_ALL_EXPORTED = Message("U盘已连接，没有待导出的照片", "USB stick connected: no photos waiting")
STICK_EJECTING = Message("正在导出照片并安全移除U盘，请勿拔出…",
                         "Exporting photos and removing the USB stick safely: do not pull it out yet…")
STICK_EJECTED = Message("可以拔出U盘了", "You can remove the USB stick now")
STICK_BUSY = Message("U盘正忙，请勿拔出，稍后再试。照片都在本机",
                     "USB stick busy: do not pull it out, try again shortly. No photo is lost")
STICK_EJECT_FAILED = Message("无法安全移除U盘，请勿拔出，稍后再试。照片都在本机",
                             "Could not remove the USB stick safely: do not pull it out, try again. "
                             "No photo is lost")
STICK_MISSING = Message("未检测到U盘", "No USB stick found")


def _photos(n: int) -> str:
    return "1 photo" if n == 1 else f"{n} photos"


def stick_waiting(n: int) -> Message:
    """The stick is there and ``n`` photos wait in the spool for it."""
    if n <= 0:
        return STICK_ALL_EXPORTED
    return Message(f"U盘已连接，{n} 张照片待导出",
                   f"USB stick connected: {_photos(n)} waiting for it")


def kept_in_booth(n: int) -> Message:
    """No stick: ``n`` photos are kept in the booth until one is plugged in."""
    return Message(f"{n} 张照片保存在本机，等待插入U盘",
                   f"{_photos(n)} kept in the booth, waiting for a USB stick")


def stick_ejected(pending: int) -> Message:
    """"You can remove it now", saying how many photos did not reach it (they stay in the booth)."""
    if pending <= 0:
        return STICK_EJECTED
    return Message(f"可以拔出U盘了。{pending} 张照片未导出，留在本机",
                   f"You can remove the USB stick now. {_photos(pending)} not exported: kept in "
                   "the booth")
