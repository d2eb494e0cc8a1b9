// i18n: the pages speak Vietnamese by default and English on request. The
// choice is remembered in localStorage under "hoinghi.lang".
//
// Static text in a page carries data-i18n="key" (its text), data-i18n-title
// or data-i18n-placeholder; scripts call t("key", {name: value}). A language
// switch re-applies the static text and fires "hoinghi:lang" on window, on
// which the pages redraw their own text.

const STORAGE_KEY = 'hoinghi.lang';

/** The languages offered, in the order the switch cycles through them. */
export const LANGS = ['vi', 'en'];

// Each entry is [Vietnamese, English]. {name} is replaced by vars.name.
const TEXTS = {
  // Common
  'app.title': ['Hội nghị trực tuyến', 'Online conference'],
  'lang.switch': ['English', 'Tiếng Việt'],
  'lang.switch.title': ['Switch to English', 'Chuyển sang tiếng Việt'],
  'status.checking': ['Đang kiểm tra đường dẫn...', 'Checking the link...'],
  'status.idle': ['Chưa tham gia', 'Not joined'],
  'status.connecting': ['Đang kết nối...', 'Connecting...'],
  'status.connected': ['Đã kết nối', 'Connected'],
  'status.waiting': ['Chờ hội trường bắt đầu', 'Waiting for the hall'],
  'status.reconnecting': ['Đang kết nối lại...', 'Reconnecting...'],
  'status.refused': ['Bị từ chối', 'Refused'],
  'status.closed': ['Đã ngắt kết nối', 'Disconnected'],
  'status.unreachable': ['Không kết nối được', 'Cannot connect'],
  'unmute': ['Bật âm thanh', 'Turn sound on'],
  'call.technician': ['Vui lòng gọi kỹ thuật viên hội trường: ', 'Please call the hall technician: '],
  'call.technician.nophone': ['Vui lòng liên hệ kỹ thuật viên hội trường.', 'Please contact the hall technician.'],
  'page.error': ['Trang gặp lỗi: {error}. Hãy tải lại trang.', 'The page failed: {error}. Please reload it.'],
  'role.technician': ['Kỹ thuật viên hội trường', 'Hall technician'],
  'role.chair': ['Chủ tọa', 'Chair'],
  'role.secretariat': ['Thư ký hội nghị', 'Secretariat'],
  'role.console': ['Bàn điều khiển hội trường', 'Hall console'],

  // Recording and livestream (console, secretariat, every page's header)
  'onair.recording': ['● Đang ghi', '● Recording'],
  'onair.recording.since': ['Hội nghị đang được ghi hình từ {time}', 'The conference is being recorded since {time}'],
  'onair.live': ['Đang phát trực tiếp', 'Live'],
  'recording.title': ['Ghi hình', 'Recording'],
  'recording.list': ['Bản ghi hình', 'Recordings'],
  'recording.start': ['● Bắt đầu ghi', '● Start recording'],
  'recording.stop': ['■ Dừng ghi', '■ Stop recording'],
  'recording.stop.confirm': ['Dừng ghi hình hội nghị?', 'Stop recording the conference?'],
  'recording.elapsed': ['Đã ghi {time}', 'Recorded {time}'],
  'recording.empty': ['Chưa có bản ghi nào.', 'No recordings yet.'],
  'recording.mb': ['{n} MB', '{n} MB'],
  'recording.locale': ['vi-VN', 'en-GB'],
  'recording.files': ['{n} tệp', '{n} files'],
  'recording.media.audio': ['tiếng', 'audio'],
  'recording.media.video': ['hình', 'video'],
  'recording.media.content': ['trình chiếu', 'presentation'],
  'recording.media.index': ['chỉ mục', 'index'],
  'recording.archive': ['Bản lưu trữ (MP4, {size})', 'Archive (MP4, {size})'],
  'recording.compose': ['Dựng bản lưu trữ', 'Compose the archive'],
  'recording.compose.again': ['Dựng lại bản lưu trữ', 'Compose the archive again'],
  'recording.job.running': ['Đang dựng bản lưu trữ: {pct}%', 'Composing the archive: {pct}%'],
  'recording.job.done': ['Đã dựng xong bản lưu trữ', 'The archive is composed'],
  'recording.job.failed': ['Dựng bản lưu trữ lỗi: {error}', 'Composing the archive failed: {error}'],
  'recording.delete': ['Xóa', 'Delete'],
  'recording.delete.confirm': [
    'Xóa bản ghi lúc {time} cùng mọi tệp của nó? Việc xóa được ghi vào nhật ký và không hoàn tác được.',
    'Delete the recording of {time} with all its files? The deletion is logged and cannot be undone.',
  ],
  'recording.deleted': ['Đã xóa bản ghi lúc {time}.', 'Deleted the recording of {time}.'],
  'recording.error.disk_full': [
    'Ổ đĩa máy chủ không đủ chỗ trống để ghi hình. Hãy xóa bớt bản ghi cũ hoặc báo quản trị máy chủ.',
    'The server\'s disk has not enough free space to record. Delete old recordings or tell the server\'s administrator.',
  ],
  'recording.error.ffmpeg_missing': [
    'Máy chủ chưa cài ffmpeg, cần để dựng bản lưu trữ và phát trực tiếp. Hãy báo quản trị máy chủ.',
    'ffmpeg, which composes archives and runs livestreams, is not installed on the server. Tell the server\'s administrator.',
  ],
  'recording.error.recording_active': [
    'Bản ghi đang chạy hoặc đang được dựng; hãy chờ nó kết thúc.',
    'The recording is running or being composed; wait until it ends.',
  ],
  'recording.error.recording_empty': ['Bản ghi không có hình hay tiếng nào để dựng.', 'The recording holds nothing to compose.'],
  'recording.error.recording_unavailable': ['Máy chủ này không ghi hình hội nghị.', 'This server does not record conferences.'],
  'recording.error.recording_not_found': ['Không tìm thấy bản ghi này; có thể nó vừa bị xóa.', 'No such recording; it may have just been deleted.'],
  'recording.error.not_recording': ['Hội nghị không đang được ghi.', 'The conference is not being recorded.'],
  'recording.error.compose_failed': ['Dựng bản lưu trữ không thành công; xem lỗi ở bản ghi.', 'Composing the archive failed; see the error on the recording.'],
  'recording.error.bad_target': [
    'Địa chỉ phát trực tiếp không hợp lệ: chọn HLS, hoặc nhập địa chỉ rtmp:// hay rtmps:// kèm khóa luồng.',
    'The livestream address is not valid: choose HLS, or enter an rtmp:// or rtmps:// address with its stream key.',
  ],
  'recording.error.livestream_running': ['Hội nghị đang được phát trực tiếp.', 'The conference is already broadcast live.'],
  'recording.error.livestream_not_running': ['Hội nghị không đang được phát trực tiếp.', 'The conference is not broadcast live.'],
  'recording.error.forbidden': ['Đường dẫn này không được làm thao tác ghi hình đó.', 'This link may not do that with recordings.'],
  'recording.error.token_expired': [
    'Đường dẫn đã hết hạn; hãy mở lại trang bằng đường dẫn mới.',
    'The link has expired; open the page again with a new link.',
  ],
  'recording.error.network': ['Không kết nối được máy chủ; hãy thử lại.', 'Cannot reach the server; please try again.'],
  'live.title': ['Phát trực tiếp', 'Livestream'],
  'live.target': ['Phát tới', 'Broadcast to'],
  'live.rtmp': ['RTMP (YouTube, Facebook, cổng thông tin)', 'RTMP (YouTube, Facebook, a portal)'],
  'live.hls': ['HLS (máy chủ này phát)', 'HLS (served by this server)'],
  'live.url': ['Địa chỉ máy chủ RTMP', 'RTMP server address'],
  'live.key': ['Khóa luồng (stream key)', 'Stream key'],
  'live.start': ['Bắt đầu phát', 'Start the livestream'],
  'live.stop': ['Dừng phát', 'Stop the livestream'],
  'live.stop.confirm': ['Dừng phát trực tiếp hội nghị?', 'Stop the livestream of the conference?'],
  'live.off': ['Chưa phát trực tiếp.', 'Not live.'],
  'live.ended': ['Phát trực tiếp đã dừng: {error}', 'The livestream stopped: {error}'],
  'live.running': [
    'Đang phát {target} từ {time} · {kbps} kbit/s · trễ {delay} giây',
    'Live on {target} since {time} · {kbps} kbit/s · {delay} s delay',
  ],
  'live.playlist': ['Địa chỉ danh sách phát HLS', 'HLS playlist address'],
  'live.copy': ['Sao chép', 'Copy'],
  'live.copied': ['Đã chép địa chỉ danh sách phát.', 'The playlist address is copied.'],

  // Landing page
  'landing.link': [
    'Để tham gia hội nghị, hãy mở đúng đường dẫn mà hội trường đã gửi cho điểm cầu của bạn (qua tin nhắn hoặc thư điện tử). Mỗi điểm cầu có một đường dẫn riêng.',
    'To join the conference, open the link the hall sent to your connection point (by text message or e-mail). Each point has its own link.',
  ],
  'landing.nolink': [
    'Nếu chưa nhận được đường dẫn, vui lòng liên hệ kỹ thuật viên hội trường.',
    'If you have no link yet, please contact the hall technician.',
  ],

  // Refusals
  'refusal.too_many_connections': ['Đường dẫn đang mở ở quá nhiều nơi', 'This link is open in too many places'],
  'refusal.token_expired': ['Đường dẫn đã hết hạn', 'This link has expired'],
  'refusal.token_missing': ['Thiếu đường dẫn tham gia', 'The link is incomplete'],
  'refusal.conference_not_found': ['Không tìm thấy hội nghị', 'The conference does not exist'],
  'refusal.point_not_found': ['Điểm cầu không có trong danh sách', 'This connection point is not invited'],
  'refusal.default': ['Không vào được hội nghị', 'Cannot join the conference'],
  'refusal.default.message': ['Đường dẫn không hợp lệ.', 'This link is not valid.'],
  'refusal.insecure.title': ['Trình duyệt không cho dùng camera và micro', 'The browser blocks the camera and microphone'],
  'refusal.insecure.http': [
    'Trình duyệt từ chối mở camera và micro vì trang này không được mở qua kết nối bảo mật HTTPS. Hãy mở đúng đường dẫn bắt đầu bằng https:// mà hội trường đã gửi.',
    'The browser refuses to open the camera and microphone because this page was not opened over a secure HTTPS connection. Please open the link starting with https:// that the hall sent you.',
  ],
  'refusal.insecure.old': [
    'Trình duyệt này không hỗ trợ camera và micro cho trang web. Hãy dùng bản mới của Chrome, Edge, Firefox hoặc Safari.',
    'This browser does not offer the camera and microphone to web pages. Please use a recent Chrome, Edge, Firefox or Safari.',
  ],
  'refusal.unreachable.title': ['Không kết nối được máy chủ', 'Cannot reach the server'],
  'refusal.unreachable': [
    'Trang không liên lạc được với máy chủ hội nghị. Hãy kiểm tra mạng rồi tải lại trang.',
    'The page cannot reach the conference server. Please check the network and reload the page.',
  ],
  'refusal.media.title': ['Không mở được camera và micro', 'Cannot open the camera and microphone'],
  'refusal.closed.point': ['Trang đã ngắt kết nối', 'This page is disconnected'],
  'refusal.closed.console': ['Bàn điều khiển đã ngắt kết nối', 'The console is disconnected'],
  'refusal.wrongpage.point.title': ['Đường dẫn này không dành cho điểm cầu', 'This link is not for a connection point'],
  'refusal.wrongpage.point': ['Đây là đường dẫn của hội trường, dùng cho trang bàn điều khiển.', 'This is a hall link, for the console page.'],
  'refusal.wrongpage.point.link': ['Mở bàn điều khiển hội trường', 'Open the hall console'],
  'refusal.wrongpage.console.title': ['Đường dẫn này không dành cho bàn điều khiển', 'This link is not for the console'],
  'refusal.wrongpage.console': ['Đây là đường dẫn của một điểm cầu.', 'This is the link of a connection point.'],
  'refusal.wrongpage.console.link': ['Mở trang điểm cầu', 'Open the connection point page'],

  // Media
  'media.blocked': [
    'Trình duyệt đã chặn camera và micro. Hãy bấm vào biểu tượng ổ khóa hoặc camera trên thanh địa chỉ, chọn "Cho phép", rồi tải lại trang.',
    'The browser blocked the camera and microphone. Click the lock or camera icon in the address bar, choose "Allow", then reload the page.',
  ],
  'media.notfound': [
    'Không tìm thấy camera hoặc micro. Hãy kiểm tra dây cắm rồi tải lại trang.',
    'No camera or microphone found. Please check the cables and reload the page.',
  ],
  'media.busy': [
    'Camera hoặc micro đang được chương trình khác sử dụng (Zoom, Teams, ...). Hãy tắt chương trình đó rồi tải lại trang.',
    'Another program (Zoom, Teams, ...) is using the camera or microphone. Please close it and reload the page.',
  ],
  'media.other': ['Không mở được camera và micro ({error}).', 'Cannot open the camera and microphone ({error}).'],
  'media.camera.n': ['Camera {n}', 'Camera {n}'],
  'media.mic.n': ['Micro {n}', 'Microphone {n}'],
  'media.camera.none': ['Không có camera', 'No camera'],
  'media.mic.none': ['Không có micro', 'No microphone'],
  'media.nocamera': ['Không mở được camera: hội trường sẽ chỉ nghe tiếng của điểm cầu.', 'The camera did not open: the hall will only hear this point.'],
  'media.nomic': ['Không mở được micro: hội trường sẽ chỉ thấy hình của điểm cầu.', 'The microphone did not open: the hall will only see this point.'],
  'meter.paused': ['Bấm vào trang để đo mức âm micro', 'Click the page to measure the microphone'],

  // Call notices
  'call.lost': ['Mất đường truyền hình ảnh và âm thanh; đang kết nối lại.', 'Picture and sound were lost; reconnecting.'],
  'call.publishfail': ['Không gửi được hình và tiếng lên máy chủ; đang thử lại.', 'Cannot send picture and sound to the server; trying again.'],
  'call.subscribefail': ['Không nhận được hình và tiếng từ máy chủ; đang thử lại.', 'Cannot receive picture and sound from the server; trying again.'],
  'error.bad_sdp': ['Máy chủ không chấp nhận thông số kết nối của trình duyệt này.', 'The server does not accept the connection settings of this browser.'],
  'error.forbidden': ['Đường dẫn này không được phép làm thao tác đó.', 'This link may not do that.'],
  'error.rate_limited': ['Trang gửi quá nhiều yêu cầu; máy chủ đã bỏ qua một số yêu cầu.', 'The page sent too many requests; the server ignored some.'],
  'error.internal': ['Máy chủ gặp lỗi; đang thử lại.', 'The server failed; trying again.'],
  'error.other': ['Máy chủ báo lỗi ({code}).', 'The server reported an error ({code}).'],
  'closing.replaced': [
    'Đường dẫn này vừa được mở ở một máy hoặc một thẻ khác, nên trang này đã ngắt kết nối.',
    'This link was just opened on another computer or tab, so this page disconnected.',
  ],
  'closing.revoked': ['Đường dẫn này đã bị thu hồi.', 'This link was revoked.'],
  'closing.shutdown': ['Máy chủ đang khởi động lại; trang sẽ tự kết nối lại.', 'The server is restarting; the page will reconnect by itself.'],
  'closing.abuse': [
    'Máy chủ đã ngắt kết nối vì trang gửi yêu cầu không hợp lệ; đang kết nối lại.',
    'The server disconnected the page for invalid requests; reconnecting.',
  ],
  'closing.other': ['Máy chủ đã đóng kết nối.', 'The server closed the connection.'],
  'closing.dropped': [
    'Kỹ thuật viên hội trường đã ngắt kết nối trang này.',
    'The hall technician disconnected this page.',
  ],
  'error.check_in.bad_request': [
    'Số đại biểu không hợp lệ (từ 0 đến 10000) hoặc tên người đại diện quá dài.',
    'The number of delegates is not valid (0 to 10000) or the representative\'s name is too long.',
  ],
  'error.check_in.forbidden': ['Đường dẫn này không được khai báo đại biểu.', 'This link may not check in delegates.'],
  'error.roll_call.conflict': [
    'Điểm danh vừa thay đổi (chưa mở, đã đóng, hoặc đã xác nhận rồi).',
    'The roll call has just changed (not open, closed, or confirmed already).',
  ],
  'error.roll_call.forbidden': ['Đường dẫn này không được làm thao tác điểm danh đó.', 'This link may not do that in the roll call.'],
  'error.roll_call.bad_request': ['Yêu cầu điểm danh không hợp lệ.', 'The roll-call request is not valid.'],
  'error.conference.conflict': [
    'Hội nghị đã ở trạng thái đó (đã bắt đầu, hoặc chưa bắt đầu nên chưa kết thúc được).',
    'The conference is in that state already (started, or not running and so cannot end).',
  ],
  'error.conference.forbidden': ['Chỉ kỹ thuật viên hội trường được bắt đầu và kết thúc hội nghị.', 'Only the hall technician starts and ends the conference.'],
  'error.control.bad_request': [
    'Điểm cầu không còn kết nối, nên không thực hiện được thao tác.',
    'The point is no longer connected, so that could not be done.',
  ],
  'error.control.forbidden': ['Chỉ kỹ thuật viên hội trường được điều khiển điểm cầu.', 'Only the hall technician controls the points.'],

  // Attendance (point page, console and secretariat)
  'checkin.delegates': ['Số đại biểu có mặt', 'Delegates present'],
  'checkin.representative': ['Người đại diện (không bắt buộc)', 'Representative (optional)'],
  'checkin.send': ['Khai báo', 'Check in'],
  'checkin.update': ['Cập nhật', 'Update'],
  'checkin.edit': ['Sửa', 'Change'],
  'checkin.hint': [
    'Vui lòng khai báo số đại biểu có mặt tại điểm cầu (có thể sửa lại sau).',
    'Please declare how many delegates are present at this point (you can change it later).',
  ],
  'checkin.invalid': ['Hãy nhập số đại biểu có mặt: một số từ 0 đến 10000.', 'Enter the number of delegates present: 0 to 10000.'],
  'checkin.sent': ['Đã gửi khai báo: {n} đại biểu có mặt.', 'Checked in: {n} delegates present.'],
  'checkin.pending': ['{n} đại biểu có mặt (sẽ gửi khi kết nối).', '{n} delegates present (sent once connected).'],
  'checkin.declared': ['Đã khai báo {n} đại biểu có mặt.', 'Checked in {n} delegates present.'],
  'checkin.declared.representative': ['Người đại diện: {name}.', 'Representative: {name}.'],
  'rollcall.title': ['Điểm danh', 'Roll call'],
  'rollcall.confirm': ['Điểm danh: bấm để xác nhận có mặt', 'Roll call: click to confirm you are present'],
  'rollcall.done': ['Đã xác nhận có mặt', 'Presence confirmed'],
  'rollcall.opened': ['Hội trường đang điểm danh: hãy bấm nút xác nhận có mặt.', 'The hall is calling the roll: please click to confirm you are present.'],
  'rollcall.left': ['còn {time}', '{time} left'],
  'rollcall.late.hint': ['Đã quá thời gian: vẫn xác nhận được (tính là muộn)', 'Time is up: you may still confirm (counted late)'],
  'rollcall.over': ['đã hết thời gian, đang nhận xác nhận muộn', 'time is up, late confirmations still count'],
  'rollcall.window': ['Thời gian xác nhận (giây)', 'Time to confirm (seconds)'],
  'rollcall.window.invalid': ['Thời gian xác nhận phải từ 1 đến 3600 giây.', 'The time to confirm must be 1 to 3600 seconds.'],
  'rollcall.start': ['Bắt đầu điểm danh', 'Start the roll call'],
  'rollcall.close': ['Kết thúc điểm danh', 'Close the roll call'],
  'rollcall.count': ['Đã xác nhận {n}/{total} điểm cầu', '{n} of {total} points confirmed'],
  'rollcall.closed': ['Điểm danh lúc {time}: {n}/{total} điểm cầu xác nhận', 'Roll call at {time}: {n} of {total} points confirmed'],
  'rollcall.present': ['Có mặt', 'Present'],
  'rollcall.late': ['Muộn', 'Late'],
  'rollcall.absent': ['Vắng', 'Absent'],
  'rollcall.pending': ['Chưa xác nhận', 'Not yet confirmed'],
  'attendance.present': ['Có mặt', 'Present'],
  'attendance.late': ['Đến muộn', 'Late'],
  'attendance.left_early': ['Về sớm', 'Left early'],
  'attendance.absent': ['Vắng', 'Absent'],
  'duration.hm': ['{h} giờ {m} phút', '{h} h {m} min'],
  'duration.m': ['{m} phút', '{m} min'],
  'duration.s': ['{s} giây', '{s} s'],
  'conference.title': ['Hội nghị', 'Conference'],
  'conference.notstarted': ['Chưa bắt đầu', 'Not started'],
  'conference.testing': ['Đang kiểm tra kỹ thuật', 'Technical check under way'],
  'conference.ended.sessions': ['Đã kết thúc lúc {time} ({n} phiên họp)', 'Ended at {time} ({n} sessions)'],
  'conference.stage': ['Hội nghị: {text} (giờ {zone})', 'Conference: {text} ({zone} time)'],
  'conference.testing.start': ['Bắt đầu kiểm tra kỹ thuật', 'Start the technical check'],
  'conference.reopen': ['Mở lại hội nghị…', 'Reopen the conference…'],
  'conference.reopen.confirm': [
    'Hội nghị đã kết thúc. Mở lại sẽ bắt đầu một phiên họp mới; biên bản và báo cáo tham dự sẽ ghi cả hai phiên, giờ kết thúc của phiên trước giữ nguyên. Việc mở lại được ghi vào nhật ký. Mở lại hội nghị?',
    'The conference has ended. Reopening starts a new session; the minutes and the attendance report will show both sessions, and the first session\'s end time stays as it is. Reopening is logged. Reopen the conference?',
  ],
  'conference.why.ended': ['Hội nghị đã kết thúc; dùng "Mở lại hội nghị" nếu thật sự cần một phiên họp mới.', 'The conference has ended; use "Reopen the conference" if a new session is really needed.'],
  'conference.why.started': ['Hội nghị đã bắt đầu; không thể quay lại kiểm tra kỹ thuật.', 'The conference has started; it cannot go back to the technical check.'],
  'floor.why.notrunning': ['Hội nghị chưa diễn ra (hoặc đã kết thúc): chỉ xin phát biểu được khi hội nghị đang diễn ra.', 'The conference is not running: the floor can be asked for only while it runs.'],
  'floor.ask.notrunning': ['Chỉ xin phát biểu được khi hội nghị đang diễn ra.', 'The floor can be asked for only while the conference runs.'],
  'conference.running': ['Đang diễn ra từ {time}', 'Running since {time}'],
  'conference.ended': ['Đã kết thúc lúc {time}', 'Ended at {time}'],
  'conference.start': ['Bắt đầu hội nghị', 'Start the conference'],
  'conference.end': ['Kết thúc hội nghị', 'End the conference'],
  'conference.start.confirm': [
    'Bắt đầu hội nghị bây giờ? Điểm danh tham dự được tính từ lúc này.',
    'Start the conference now? Attendance counts from now.',
  ],
  'conference.end.confirm': [
    'Kết thúc hội nghị bây giờ? Điểm danh đang mở (nếu có) sẽ đóng lại.',
    'End the conference now? An open roll call closes with it.',
  ],

  // Technician controls
  'control.mute': ['Tắt micro', 'Mute'],
  'control.unmute': ['Bật micro', 'Unmute'],
  'control.keyframe': ['Yêu cầu khung hình', 'Request a keyframe'],
  'control.restart_camera': ['Khởi động lại camera', 'Restart the camera'],
  'control.drop': ['Ngắt kết nối', 'Disconnect'],
  'control.short.mute': ['Tắt mic', 'Mute'],
  'control.short.unmute': ['Bật mic', 'Unmute'],
  'control.short.keyframe': ['Khung hình', 'Keyframe'],
  'control.short.restart_camera': ['Camera', 'Camera'],
  'control.short.drop': ['Ngắt', 'Drop'],
  'control.drop.confirm': [
    'Ngắt kết nối {name}? Điểm cầu sẽ không tự kết nối lại cho đến khi bấm "Kết nối lại".',
    'Disconnect {name}? The point will not reconnect until it clicks "Reconnect".',
  ],
  'control.done.mute': ['Đã tắt micro của {name}.', '{name} is muted.'],
  'control.done.unmute': ['Đã bật lại micro của {name}.', '{name} is unmuted.'],
  'control.done.keyframe': ['Đã yêu cầu {name} gửi khung hình mới.', 'Asked {name} for a new keyframe.'],
  'control.done.restart_camera': ['Đã yêu cầu {name} khởi động lại camera.', 'Asked {name} to restart its camera.'],
  'control.done.drop': ['Đã ngắt kết nối {name}.', '{name} is disconnected.'],
  'control.tile.muted': ['Đã tắt micro', 'Muted'],
  'control.muted': ['Hội trường đã tắt micro của điểm cầu', 'The hall has muted this point\'s microphone'],
  'control.unmuted': ['Hội trường đã bật lại micro của điểm cầu.', 'The hall has unmuted this point\'s microphone.'],
  'control.restarted': ['Hội trường yêu cầu khởi động lại camera: camera đã được mở lại.', 'The hall asked to restart the camera: it has been reopened.'],
  'control.dropped.title': ['Hội trường đã ngắt kết nối điểm cầu này', 'The hall disconnected this point'],
  'control.dropped': [
    'Kỹ thuật viên hội trường đã ngắt kết nối điểm cầu. Trang sẽ không tự kết nối lại; khi sẵn sàng, hãy bấm "Kết nối lại".',
    'The hall technician disconnected this point. The page will not reconnect by itself; when ready, click "Reconnect".',
  ],
  'control.reconnect': ['Kết nối lại', 'Reconnect'],

  // Point page
  'point.name': ['Điểm cầu', 'Connection point'],
  'point.setup.title': ['Kiểm tra camera và micro', 'Check the camera and microphone'],
  'point.setup.hint': [
    'Chọn camera và micro của phòng họp. Hãy nói thử: thanh mức âm phải nhảy theo giọng nói.',
    'Choose the meeting room camera and microphone. Say a few words: the level bar should move with your voice.',
  ],
  'point.camera': ['Camera', 'Camera'],
  'point.mic': ['Micro', 'Microphone'],
  'point.meter': ['Mức âm micro', 'Microphone level'],
  'point.check': ['Kiểm tra kết nối', 'Test my connection'],
  'point.check.again': ['Kiểm tra lại', 'Test again'],
  'point.check.hint': [
    'Bước kiểm tra kết nối với máy chủ và gửi hình, tiếng thử: hội trường sẽ thấy điểm cầu từ lúc này.',
    'The test connects to the server and sends your picture and sound: the hall sees this point from now on.',
  ],
  'point.join': ['Tham gia hội nghị', 'Join the conference'],
  'point.settings': ['Camera và micro', 'Camera and microphone'],
  'point.hall': ['Hội trường', 'Conference hall'],
  'point.hall.waiting': ['Đang chờ hình từ hội trường...', 'Waiting for the hall picture...'],
  'point.hall.notstarted': ['Hội nghị chưa bắt đầu: đang chờ hội trường phát hình.', 'The conference has not started: waiting for the hall.'],
  'point.hall.reconnecting': ['Đang kết nối lại với máy chủ...', 'Reconnecting to the server...'],
  'point.speaker': ['Người phát biểu', 'Current speaker'],
  'content.share': ['Chia sẻ màn hình', 'Share screen'],
  'content.stop': ['Dừng chia sẻ', 'Stop sharing'],
  'content.label': ['Trình chiếu: {name}', 'Presentation: {name}'],
  'content.self': ['Bạn đang chia sẻ màn hình', 'You are sharing your screen'],
  'content.none': ['Chưa có trình chiếu', 'No presentation'],
  'content.denied': ['Trình duyệt không cho chia sẻ màn hình.', 'The browser did not allow sharing the screen.'],
  'content.ended.floor_ended': ['Hết lượt phát biểu: đã dừng chia sẻ màn hình.', 'Your turn ended: screen sharing stopped.'],
  'content.ended.stopped': ['Đã dừng chia sẻ màn hình.', 'Screen sharing stopped.'],
  'content.ended.replaced': ['Nơi khác vừa chia sẻ màn hình thay bạn.', 'Someone else is now sharing their screen.'],
  'content.ended.left': ['Mất kết nối: đã dừng chia sẻ màn hình.', 'Connection lost: screen sharing stopped.'],
  'error.content.not_holding': ['Chỉ điểm cầu đang phát biểu mới được chia sẻ màn hình.', 'Only the point holding the floor may share its screen.'],
  'error.content.hall_content': ['Hội trường đang trình chiếu: chưa chia sẻ được.', 'The hall is presenting: you cannot share now.'],
  'error.content.not_sharing': ['Điểm cầu chỉ dừng được trình chiếu của mình.', 'A point can stop only its own presentation.'],
  'error.content.other': ['Không chia sẻ được màn hình ({code}).', 'Could not share the screen ({code}).'],
  'point.speaker.none': ['Chưa có người phát biểu', 'Nobody has the floor'],
  'point.speaker.waiting': ['Đang chờ hình người phát biểu...', 'Waiting for the speaker\'s picture...'],
  'point.speaker.self': [
    'Bạn đang phát biểu: cả hội nghị đang xem và nghe điểm cầu này.',
    'You have the floor: the whole conference sees and hears this point.',
  ],
  'point.self': ['Hình của điểm cầu', 'This point'],
  'check.running': ['Đang kiểm tra...', 'Testing...'],
  'check.http': ['Máy chủ trả lời sau {ms} ms', 'The server answers in {ms} ms'],
  'check.http.fail': ['Không liên lạc được với máy chủ', 'The server does not answer'],
  'check.signal': ['Kênh điều khiển đã mở', 'Control channel open'],
  'check.signal.fail': ['Không mở được kênh điều khiển (WebSocket)', 'The control channel (WebSocket) does not open'],
  'check.media': ['Đường truyền hình ảnh: {path}, trễ khứ hồi {rtt} ms', 'Media path: {path}, round trip {rtt} ms'],
  'check.media.fail': [
    'Không thiết lập được đường truyền hình ảnh (mạng có thể chặn UDP/TCP cổng media)',
    'The media path does not connect (the network may block the media port)',
  ],
  'check.send': ['Đang gửi hình lên hội trường: {kbps} kbit/s', 'Sending picture to the hall: {kbps} kbit/s'],
  'check.send.fail': ['Chưa gửi được hình', 'No picture sent yet'],
  'check.receive': ['Đã nhận hình từ hội trường', 'Receiving the hall picture'],
  'check.receive.none': ['Hội trường chưa phát hình (bình thường trước giờ họp)', 'The hall is not sending yet (normal before the start)'],
  'check.path.udp': ['trực tiếp (UDP)', 'direct (UDP)'],
  'check.path.tcp': ['qua TCP', 'over TCP'],
  'check.path.relay': ['qua máy chủ chuyển tiếp (TURN)', 'through the relay (TURN)'],
  'check.done.ok': ['Kết nối tốt. Có thể tham gia hội nghị.', 'The connection is good. You can join.'],
  'check.done.warn': ['Kết nối được nhưng chưa tốt; vẫn có thể tham gia.', 'Connected, but not well; you can still join.'],
  'check.done.bad': ['Kết nối không đạt. Hãy gọi kỹ thuật viên hội trường.', 'The connection failed. Please call the hall technician.'],

  // Console
  'console.title': ['Bàn điều khiển', 'Console'],
  'console.connected': ['điểm cầu đã kết nối', 'points connected'],
  'console.withvideo': ['có hình', 'with picture'],
  'console.mode.technician': ['Kỹ thuật', 'Technician'],
  'console.mode.chair': ['Chủ tọa', 'Chair'],
  'console.view.wall': ['Lưới hình', 'Video wall'],
  'console.view.list': ['Danh sách', 'List'],
  'console.search': ['Tìm điểm cầu theo tên', 'Search points by name'],
  'console.program': ['Chương trình hội trường', 'Hall program'],
  'console.program.none': ['Hội trường chưa có hình', 'No hall picture'],
  'console.camera': ['Camera hội trường', 'Hall camera'],
  'console.mic': ['Micro hội trường', 'Hall microphone'],
  'console.empty': ['Chưa có điểm cầu nào kết nối.', 'No connection point is connected yet.'],
  'console.nomatch': ['Không có điểm cầu nào khớp với tìm kiếm.', 'No point matches the search.'],
  'console.insecure': [
    'Trình duyệt từ chối mở camera và micro vì trang không được mở qua HTTPS: các điểm cầu sẽ không thấy hội trường. Hãy mở bàn điều khiển bằng đường dẫn https://.',
    'The browser refuses the camera and microphone because the page is not on HTTPS: the points will not see the hall. Open the console with its https:// link.',
  ],
  'console.mediafail': [
    'Không mở được camera và micro của hội trường: {error} Bàn điều khiển vẫn nhận hình các điểm cầu.',
    'The hall camera and microphone did not open: {error} The console still receives the points.',
  ],
  'console.link': ['Đường truyền hội trường: trễ khứ hồi {rtt} ms', 'Hall link: round trip {rtt} ms'],
  'console.pointlink': ['Đường dẫn', 'Link'],
  'console.pointlink.title': ['Sao chép đường dẫn của điểm cầu', 'Copy the point\'s link'],
  'console.pointlink.copied': ['Đã chép đường dẫn của {name}.', 'The link of {name} is copied.'],
  'console.pointlink.none': ['{name} chưa có đường dẫn: hãy mời điểm cầu này vào hội nghị.', '{name} has no link: invite the point to the conference.'],
  'console.pointlink.prompt': ['Đường dẫn của {name}:', 'The link of {name}:'],
  'admin.console': ['Mở bàn điều khiển hội trường', 'Open the hall console'],
  'console.chair.floor': ['Đang phát biểu', 'Has the floor'],
  'console.chair.queue': ['Xin phát biểu', 'Requests to speak'],
  'console.chair.noqueue': ['Chưa có điểm cầu xin phát biểu', 'No requests to speak'],
  'console.program.speaker': ['Đang phát biểu: {name}', 'Speaking: {name}'],
  'console.program.focus': ['Xem lớn: {name}', 'Shown large: {name}'],
  'console.page': ['Trang {n}/{of}', 'Page {n} of {of}'],
  'console.page.prev': ['‹ Trang trước', '‹ Previous'],
  'console.page.next': ['Trang sau ›', 'Next ›'],
  'console.focus': ['Xem lớn', 'Show large'],
  'console.focus.off': ['Thôi xem lớn', 'Stop showing large'],
  'list.floor': ['Phát biểu', 'Floor'],
  'media.failed': ['Không thiết lập được đường truyền hình và tiếng tới máy chủ: mạng ở đây có thể đang chặn cổng truyền hình. Hãy kiểm tra tường lửa, hoặc dùng mạng khác.', 'Picture and sound could not reach the server: this network may block the media port. Check the firewall, or use another network.'],
  'media.failed.phone': [' Gọi kỹ thuật viên hội trường: {phone}.', ' Call the hall technician: {phone}.'],
  'tile.nopicture': ['chưa có hình', 'no picture'],
  'tile.live': ['Đã kết nối', 'Connected'],
  'tile.waiting': ['Đang kết nối', 'Connecting'],
  'tile.offline': ['Mất kết nối', 'Disconnected'],
  'tile.gone': ['Mất kết nối {time}', 'Disconnected for {time}'],
  'speaker.meter': ['Mức âm người phát biểu', 'Speaker\'s sound level'],
  'tile.invited': ['Chưa kết nối', 'Not connected'],
  'tile.offpage': ['Đã kết nối (ngoài trang lưới hình)', 'Connected (not on the wall page)'],
  'quality.good': ['Đường truyền tốt', 'Good link'],
  'quality.fair': ['Đường truyền trung bình', 'Fair link'],
  'quality.poor': ['Đường truyền kém', 'Poor link'],
  'quality.none': ['Chưa đo', 'Not measured'],
  'quality.detail': ['mất gói {loss}%, jitter {jitter} ms, {fps} hình/giây', 'loss {loss}%, jitter {jitter} ms, {fps} fps'],
  'quality.short.good': ['Tốt', 'Good'],
  'quality.short.fair': ['Trung bình', 'Fair'],
  'quality.short.poor': ['Kém', 'Poor'],
  'quality.server': ['RTT {rtt} ms, mất gói {loss}%, {kbps} kbps, {network}', 'RTT {rtt} ms, loss {loss}%, {kbps} kbps, {network}'],
  'network.udp': ['UDP', 'UDP'],
  'network.tcp': ['TCP', 'TCP'],
  'network.relay': ['TURN', 'TURN'],
  'network.other': ['khác', 'other'],
  // Live link quality: the points' own figures, and the server's quality alerts
  'list.resolution': ['Độ phân giải', 'Resolution'],
  'list.fps': ['Khung hình/giây', 'Frames/s'],
  'list.jitter': ['Jitter (ms)', 'Jitter (ms)'],
  'list.recvkbps': ['Nhận kbps', 'Received kbps'],
  'list.layers': ['Lớp hình (gửi → nhận)', 'Video layers (sends → receives)'],
  'layers.limited': ['đường truyền hạn chế', 'held back by its link'],
  'layers.audio_only': ['chỉ nhận âm thanh', 'sound only'],
  'layers.title': ['Gửi: {send}. Người xem: {viewers}. Nhận: {recv}. Ước tính đường xuống: {est} kbps', 'Sends: {send}. Viewers: {viewers}. Receives: {recv}. Downlink estimate: {est} kbps'],
  'layers.none': ['không', 'none'],
  'program.audio': ['Âm thanh gửi các điểm cầu', 'Sound sent to the points'],
  'program.audio.default': ['Theo bàn có hình hội trường (mặc định)', 'From the console whose camera is the program (default)'],
  'program.audio.self': ['bàn này', 'this console'],
  'program.video': ['Hình gửi các điểm cầu', 'Picture sent to the points'],
  'program.video.default': ['Bàn trộn hình (WHIP) nếu có, không thì camera bàn kỹ thuật (mặc định)', 'The mixer (WHIP) if it sends, else the technician console\'s camera (default)'],
  'role.ingest': ['Bàn trộn hình (WHIP)', 'Production mixer (WHIP)'],
  'program.none': ['không có', 'none'],
  'program.source': ['Các điểm cầu nghe âm thanh từ: {audio}; xem hình từ: {video}.', 'The points hear the sound of: {audio}; see the picture of: {video}.'],
  'program.source.none': ['Chưa có âm thanh hội trường gửi các điểm cầu.', 'No hall sound goes to the points yet.'],
  'chair.mic.on': ['Bật micro chủ tọa', 'Turn the chair\'s microphone on'],
  'chair.mic.off': ['Tắt micro chủ tọa', 'Turn the chair\'s microphone off'],
  'chair.mic.offnote': ['Micro của bàn chủ tọa đang tắt; âm thanh hội trường đến các điểm cầu từ bàn kỹ thuật.', 'The chair console\'s microphone is off; the hall\'s sound reaches the points from the technician\'s console.'],
  'chair.mic.live': ['Các điểm cầu đang nghe micro của bàn chủ tọa.', 'The points hear the chair console\'s microphone.'],
  'chair.mic.notchosen': ['Micro đã bật; kỹ thuật viên chọn micro nào được gửi đến các điểm cầu.', 'The microphone is on; the technician chooses which microphone the points hear.'],
  'layers.temporal': ['{n} lớp thời gian', '{n} temporal layers'],
  'layers.reduced_rate': ['{n} luồng nhận ít hình/giây hơn (bỏ lớp thời gian trên cho vừa đường truyền).', '{n} received at fewer frames a second (upper temporal layers left out for the link).'],
  'downlink.reduced': ['Đường truyền yếu: hình ảnh được giảm chất lượng cho vừa đường truyền.', 'Weak link: pictures are sent at a lower quality to fit it.'],
  'downlink.audio_only': ['Đường truyền quá yếu để nhận hình: chỉ nhận âm thanh, hình ảnh dừng ở khung cuối. Sẽ tự phục hồi khi đường truyền tốt lên.', 'The link is too weak for video: sound only, pictures stay on their last frame. It recovers by itself when the link does.'],
  'quality.client.send': ['Điểm cầu gửi: {res} @ {fps} hình/giây, {kbps} kbps', 'The point sends: {res} @ {fps} fps, {kbps} kbps'],
  'quality.client.recv': ['Điểm cầu nhận: {kbps} kbps, mất gói {loss}%, jitter {jitter} ms, {fps} hình/giây', 'The point receives: {kbps} kbps, loss {loss}%, jitter {jitter} ms, {fps} fps'],
  'quality.client.pair': ['Kết nối của điểm cầu: {network}, RTT {rtt} ms', 'The point\'s connection: {network}, RTT {rtt} ms'],
  'quality.limit.cpu': ['trình duyệt hạ chất lượng do máy yếu', 'lowered by the browser: CPU'],
  'quality.limit.bandwidth': ['trình duyệt hạ chất lượng do băng thông', 'lowered by the browser: bandwidth'],
  'quality.limit.other': ['trình duyệt hạ chất lượng', 'lowered by the browser'],
  'quality.alerts': ['Cảnh báo chất lượng đường truyền', 'Link quality alerts'],
  'quality.alert': ['Chất lượng kém: {name} — {reason}', 'Poor quality: {name} — {reason}'],
  'quality.reason.loss': ['mất gói {value}%', '{value}% packet loss'],
  'quality.reason.recv_loss': ['mất gói khi nhận {value}%', '{value}% loss on what it receives'],
  'quality.reason.rtt': ['độ trễ {value} ms', 'round trip {value} ms'],
  'quality.reason.no_media': ['không nhận được hình và tiếng từ điểm cầu ({value} giây)', 'no picture or sound from the point ({value} s)'],
  'quality.reason.other': ['đường truyền kém', 'poor link'],
  'tile.delegates': ['{n} đại biểu', '{n} delegates'],
  'list.rtt': ['RTT (ms)', 'RTT (ms)'],
  'list.loss': ['Mất gói (%)', 'Loss (%)'],
  'list.kbps': ['kbps', 'kbps'],
  'list.network': ['Mạng', 'Network'],
  'list.delegates': ['Đại biểu', 'Delegates'],
  'list.control': ['Điều khiển', 'Control'],
  'list.status': ['Tình trạng', 'Status'],
  'list.firstjoin': ['Vào lúc', 'First joined'],
  'list.connected': ['Thời gian kết nối', 'Time connected'],
  'list.gaps': ['Gián đoạn', 'Interruptions'],
  'list.representative': ['Người đại diện', 'Representative'],
  'list.rollcall': ['Điểm danh', 'Roll call'],
  'list.name': ['Điểm cầu', 'Point'],
  'list.state': ['Trạng thái', 'State'],
  'list.quality': ['Chất lượng', 'Quality'],
  'list.since': ['Kết nối từ', 'Connected since'],

  // Floor control (point page and console)
  'floor.ask': ['Xin phát biểu', 'Ask to speak'],
  'floor.subject': ['Nội dung phát biểu (không bắt buộc)', 'Subject (optional)'],
  'floor.withdraw': ['Rút đăng ký', 'Withdraw my request'],
  'floor.finish': ['Kết thúc phát biểu', 'Finish speaking'],
  'floor.point.queued': ['Bạn đang ở vị trí thứ {n} trong danh sách xin phát biểu', 'You are number {n} in the queue to speak'],
  'floor.point.holding': ['Bạn đang phát biểu', 'You have the floor'],
  'floor.point.holding.muted': ['Bạn đang phát biểu, nhưng hội trường đã tắt micro của điểm cầu: hội nghị thấy hình, chưa nghe được tiếng.', 'You have the floor, but the hall has muted your microphone: the conference sees you and does not hear you.'],
  'floor.clock.label': ['Thời gian còn lại', 'Time left'],
  'floor.clock.over': ['Hết giờ {time}', 'Time up {time}'],
  'floor.clock.nolimit': ['không giới hạn, đã nói {time}', 'no limit, {time} so far'],
  'floor.mic.live': ['Micro của điểm cầu đang được phát tới hội nghị.', 'Your microphone is live to the conference.'],
  'floor.mic.muted': [
    'Micro đang tắt tiếng ở hội trường: chỉ được phát khi chủ tọa mời phát biểu.',
    'Your microphone is muted at the hall: it goes live when the chair gives you the floor.',
  ],
  'floor.alert.self': [
    'Đã hết thời gian phát biểu. Xin mời kết thúc phần phát biểu.',
    'Your speaking time is up. Please conclude.',
  ],
  'floor.notconnected': ['Chưa kết nối với máy chủ; hãy thử lại sau giây lát.', 'Not connected to the server; try again in a moment.'],
  'floor.limit': ['Thời gian phát biểu', 'Speaking time'],
  'floor.limit.default': ['Mặc định của hội nghị', 'Conference default'],
  'floor.limit.defaultof': ['Mặc định ({n} phút)', 'Default ({n} minutes)'],
  'floor.limit.minutes': ['{n} phút', '{n} minutes'],
  'floor.limit.none': ['Không giới hạn', 'No limit'],
  'floor.next': ['Mời người tiếp theo', 'Give the floor to the next'],
  'floor.give': ['Mời phát biểu', 'Give the floor'],
  'floor.remove': ['Hủy', 'Remove'],
  'floor.remove.title': ['Xóa khỏi danh sách xin phát biểu', 'Remove from the queue'],
  'floor.extend': ['+{n} phút', '+{n} min'],
  'floor.takeback': ['Thu hồi', 'Take back'],
  'floor.discussion.open': ['Mở thảo luận', 'Open discussion'],
  'floor.discussion.close': ['Đóng thảo luận', 'Close discussion'],
  'floor.discussion.on': [
    'Đang thảo luận: nhiều điểm cầu có thể cùng phát biểu.',
    'Discussion open: several points may speak at once.',
  ],
  'floor.since': ['Từ {time}', 'Since {time}'],
  'floor.offline': ['mất kết nối', 'disconnected'],
  'floor.tile.holding': ['Đang phát biểu', 'Speaking'],
  'floor.tile.queued': ['Xin phát biểu, thứ {n}', 'Asked, number {n}'],
  'floor.alert': ['Hết giờ phát biểu: {name}', 'Speaking time is up: {name}'],
  'floor.alert.takenback': [
    'Hết giờ phát biểu: {name}. Quyền phát biểu đã được thu hồi tự động.',
    'Speaking time is up: {name}. The floor was taken back automatically.',
  ],
  'floor.alert.close': ['Đã biết', 'Dismiss'],
  'floor.error.forbidden': ['Đường dẫn này không được phép làm thao tác phát biểu đó.', 'This link may not do that on the floor.'],
  'floor.error.conflict': [
    'Tình hình phát biểu vừa thay đổi: thao tác không thực hiện được.',
    'The floor has just changed: that could not be done.',
  ],
  'floor.error.bad_request': [
    'Yêu cầu phát biểu không hợp lệ (nội dung quá dài hoặc thời gian không hợp lệ).',
    'The floor request is not valid (subject too long or time out of range).',
  ],
  'floor.error.internal': ['Máy chủ gặp lỗi khi điều hành phát biểu; hãy thử lại.', 'The server failed on the floor; please try again.'],
  'floor.why.queued': ['Điểm cầu đã xin phát biểu rồi.', 'The point has already asked to speak.'],
  'floor.why.holding': ['Điểm cầu đang phát biểu rồi.', 'The point already has the floor.'],
  'floor.why.notqueued': ['Điểm cầu không còn trong danh sách xin phát biểu.', 'The point is no longer in the queue.'],
  'floor.why.notholding': ['Điểm cầu không còn giữ quyền phát biểu.', 'The point no longer has the floor.'],
  'floor.why.empty': ['Chưa có điểm cầu nào xin phát biểu.', 'Nobody is waiting for the floor.'],
  'floor.why.notinvited': ['Điểm cầu không có trong danh sách mời.', 'The point is not invited.'],

  // Secretariat
  'secretariat.points.title': ['Điểm danh các điểm cầu', 'Attendance of the points'],
  'secretariat.points.hint': [
    'Bảng cập nhật trực tiếp. Thời gian tính theo múi giờ của hội nghị, từ lúc hội nghị bắt đầu; điểm cầu vào sau 5 phút là đến muộn, rời trước khi kết thúc hơn 5 phút là về sớm.',
    'The table updates live. Times are in the conference\'s time zone, counted from the start; a point joining more than 5 minutes late is late, one leaving more than 5 minutes before the end left early.',
  ],
  'secretariat.empty': ['Chưa có điểm cầu nào.', 'No connection points yet.'],
  'secretariat.total': ['{n} điểm cầu đang kết nối', '{n} points connected'],
  'secretariat.summary': [
    '{expected} điểm cầu được mời · {attended} tham dự · {absent} vắng · {delegates} đại biểu · {connected} đang kết nối',
    '{expected} points invited · {attended} attended · {absent} absent · {delegates} delegates · {connected} connected now',
  ],
  'secretariat.summary.more': ['({late} đến muộn, {early} về sớm)', '({late} late, {early} left early)'],
  'secretariat.scheduled': ['Dự kiến bắt đầu {time}', 'Scheduled for {time}'],
  'secretariat.started': ['Bắt đầu {time}', 'Started {time}'],
  'secretariat.ended': ['Kết thúc {time}', 'Ended {time}'],
  'secretariat.running': ['đang diễn ra', 'running'],
  'secretariat.notstarted': ['hội nghị chưa bắt đầu', 'the conference has not started'],
  'secretariat.rollcall.none': ['Chưa điểm danh lần nào.', 'No roll call yet.'],
  'secretariat.rollcall.left': ['Điểm danh đang mở: còn {time} để xác nhận', 'Roll call open: {time} left to confirm'],
  'secretariat.rollcall.open': [
    'Điểm danh lần {n} (từ {time}, đang mở): {present} có mặt, {late} muộn, {pending} chưa xác nhận, {absent} vắng.',
    'Roll call {n} (since {time}, open): {present} present, {late} late, {pending} not yet confirmed, {absent} absent.',
  ],
  'secretariat.rollcall.closed': [
    'Điểm danh lần {n} (lúc {time}): {present} có mặt, {late} muộn, {absent} vắng.',
    'Roll call {n} (at {time}): {present} present, {late} late, {absent} absent.',
  ],
  'secretariat.live.connected': ['đang kết nối', 'connected'],
  'secretariat.live.offline': ['đã rời', 'left'],
  'secretariat.gaps': ['{n} lần, {time}', '{n}, {time}'],
  'secretariat.updated': ['Cập nhật lúc {time}', 'Updated at {time}'],
  'secretariat.stale': [
    'Không tải được báo cáo mới; bảng có thể chưa cập nhật. Đang thử lại.',
    'Cannot load the latest report; the table may be out of date. Trying again.',
  ],
  'secretariat.export': ['Xuất báo cáo', 'Export the report'],
  'secretariat.export.xlsx': ['Tải báo cáo dạng bảng tính Excel (XLSX)', 'Download the report as an Excel workbook (XLSX)'],
  'secretariat.export.csv': ['Tải báo cáo dạng CSV (tệp nén zip)', 'Download the report as CSV (a zip file)'],
  'secretariat.export.pdf': ['Tải phụ lục danh sách điểm cầu tham dự để in và ký (PDF)', 'Download the annex listing the points that attended, to print and sign (PDF)'],
  'secretariat.export.separator': ['Dấu phân cách CSV', 'CSV separator'],
  'secretariat.export.separator.title': [
    'Excel tách các cột của tệp CSV theo cài đặt vùng của máy: dấu chấm phẩy với cài đặt Việt Nam, dấu phẩy với cài đặt tiếng Anh.',
    'Excel splits the columns of a CSV file by the computer\'s regional settings: semicolons with Vietnamese settings, commas with English ones.',
  ],
  'secretariat.export.semicolon': ['; (cài đặt Việt Nam)', '; (Vietnamese settings)'],
  'secretariat.export.comma': [', (cài đặt tiếng Anh)', ', (English settings)'],
  'secretariat.export.busy': ['Đang lập báo cáo…', 'Making the report…'],
  'secretariat.export.failed': ['Không tải được báo cáo: {error}', 'The report did not download: {error}'],
  'secretariat.export.error.bad_separator': [
    'Máy chủ không nhận dấu phân cách này: hãy chọn dấu chấm phẩy hoặc dấu phẩy.',
    'The server does not take this separator: choose semicolon or comma.',
  ],
  'secretariat.export.error.bad_format': [
    'Máy chủ không có định dạng báo cáo này: hãy chọn XLSX, CSV hoặc PDF.',
    'The server has no such report format: choose XLSX, CSV or PDF.',
  ],
  'secretariat.export.error.token_expired': [
    'Đường dẫn của thư ký đã hết hạn; hãy xin kỹ thuật viên hội trường đường dẫn mới.',
    'The secretariat\'s link has expired; ask the hall technician for a new one.',
  ],
  'secretariat.export.error.forbidden': ['Đường dẫn này không được xuất báo cáo.', 'This link may not export the report.'],
  'secretariat.export.error.conference_not_found': ['Máy chủ không còn hội nghị này.', 'The server no longer has this conference.'],
  'secretariat.export.error.store_unavailable': [
    'Máy chủ tạm thời không đọc được dữ liệu; hãy thử lại sau ít giây.',
    'The server cannot read its data for the moment; try again in a few seconds.',
  ],
  'secretariat.export.error.internal': ['Máy chủ gặp lỗi khi lập báo cáo; hãy thử lại.', 'The server failed to make the report; please try again.'],
  'secretariat.export.error.network': ['Không kết nối được máy chủ; hãy kiểm tra mạng rồi thử lại.', 'Cannot reach the server; check the network and try again.'],

  // Login page (staff of the hall)
  'login.title': ['Đăng nhập', 'Log in'],
  'login.subtitle': ['Hội trường: kỹ thuật viên, chủ tọa, thư ký', 'Hall staff: technicians, chair, secretariat'],
  'login.intro': [
    'Dành cho kỹ thuật viên, chủ tọa và thư ký hội trường. Điểm cầu không đăng nhập: hãy mở đường dẫn đã được gửi cho điểm cầu.',
    'For the hall technicians, chair and secretariat. Connection points do not log in: open the link that was sent to the point.',
  ],
  'login.name': ['Tên đăng nhập', 'User name'],
  'login.password': ['Mật khẩu', 'Password'],
  'login.conference': ['Mã hội nghị', 'Conference id'],
  'login.conference.hint': ['Ví dụ: demo', 'For example: demo'],
  'login.submit': ['Đăng nhập', 'Log in'],
  'login.busy': ['Đang đăng nhập...', 'Logging in...'],
  'login.failed': ['Hãy nhập tên đăng nhập và mật khẩu.', 'Please enter your user name and password.'],
  'login.error': ['Không đăng nhập được: {error}', 'Cannot log in: {error}'],
  'login.as': ['Đã đăng nhập: {name} ({role})', 'Logged in as {name} ({role})'],
  'login.open': ['Mở trang hội nghị', 'Open the conference'],
  'login.needconference': ['Hãy nhập mã hội nghị.', 'Please enter the conference id.'],
  'login.logout': ['Đăng xuất', 'Log out'],
  'login.loggedout': ['Đã đăng xuất.', 'Logged out.'],

  // Administration page (admin.js)
  'admin.title': ['Quản trị hội nghị', 'Conference administration'],
  'admin.conferences': ['Các hội nghị', 'Conferences'],
  'admin.conf.id': ['Mã', 'Id'],
  'admin.conf.title': ['Tên hội nghị', 'Title'],
  'admin.conf.status': ['Trạng thái', 'Status'],
  'admin.conf.scheduled': ['Lịch bắt đầu', 'Scheduled start'],
  'admin.conf.points': ['Điểm cầu', 'Points'],
  'admin.conf.timezone': ['Múi giờ', 'Time zone'],
  'admin.conf.speaking': ['Thời gian phát biểu (giây)', 'Speaking time (seconds)'],
  'admin.conf.grace': ['Thời gian chờ kết nối lại (giây)', 'Grace period (seconds)'],
  'admin.conf.phone': ['Điện thoại kỹ thuật viên', 'Technician phone'],
  'admin.conf.organizer': ['Đơn vị tổ chức', 'Organizing unit'],
  'admin.conf.organizer.title': [
    'In ở đầu phụ lục danh sách điểm cầu tham dự (PDF)',
    'Printed at the head of the annex listing the points that attended (PDF)',
  ],
  'admin.status.draft': ['nháp', 'draft'],
  'admin.status.scheduled': ['đã lên lịch', 'scheduled'],
  'admin.status.testing': ['đang kiểm tra kỹ thuật', 'open for testing'],
  'admin.status.running': ['đang diễn ra', 'running'],
  'admin.status.ended': ['đã kết thúc', 'ended'],
  'admin.status.archived': ['đã lưu trữ', 'archived'],
  'admin.status.changed': ['Hội nghị chuyển sang: {status}.', 'The conference is now {status}.'],
  'admin.open': ['Mở', 'Open'],
  'admin.create': ['Tạo hội nghị mới', 'Create a conference'],
  'admin.create.submit': ['Tạo', 'Create'],
  'admin.created': ['Đã tạo hội nghị {title}.', 'Conference {title} created.'],
  'admin.created.open': ['Mở trang quản trị của hội nghị mới', 'Open the administration of the new conference'],
  'admin.current': ['Hội nghị', 'Conference'],
  'admin.save': ['Lưu', 'Save'],
  'admin.saved': ['Đã lưu.', 'Saved.'],
  'admin.reload': ['Tải lại', 'Reload'],
  'admin.other.conference': [
    'Đường dẫn đang dùng chỉ quản lý được hội nghị của nó; hãy đăng nhập hoặc mở đường dẫn kỹ thuật của hội nghị này.',
    'The link in use manages only its own conference; log in, or open the technician link of this conference.',
  ],
  'admin.notechnician': ['Trang này dành cho kỹ thuật viên hội trường.', 'This page is for the hall technician.'],
  'admin.action.schedule': ['Lên lịch', 'Schedule'],
  'admin.action.testing': ['Mở kiểm tra kỹ thuật', 'Open for testing'],
  'admin.action.start': ['Bắt đầu hội nghị', 'Start the conference'],
  'admin.action.end': ['Kết thúc hội nghị', 'End the conference'],
  'admin.action.archive': ['Lưu trữ', 'Archive'],
  'admin.action.timeout': ['Máy chủ không trả lời; vui lòng thử lại.', 'The server did not answer; please try again.'],
  'admin.action.failed': ['Không kết nối được máy chủ.', 'Cannot reach the server.'],
  'admin.started': ['Hội nghị đã bắt đầu: từ giờ điểm danh được tính.', 'The conference has started: attendance counts from now.'],
  'admin.ended': ['Hội nghị đã kết thúc.', 'The conference has ended.'],
  'admin.confirm.archive': ['Lưu trữ hội nghị này? Không thể mở lại.', 'Archive this conference? It cannot be reopened.'],
  'admin.confirm.end': ['Kết thúc hội nghị?', 'End the conference?'],
  'admin.confirm.reissue': [
    'Thu hồi đường dẫn của {name} và cấp đường dẫn mới? Điểm cầu đang kết nối bằng đường dẫn cũ sẽ bị ngắt ngay.',
    'Revoke the link of {name} and issue a new one? The point, if connected with the old link, is disconnected at once.',
  ],
  'admin.confirm.delete': ['Xóa {name} khỏi sổ điểm cầu?', 'Delete {name} from the registry?'],
  'admin.links': ['Đường dẫn các điểm cầu', 'Links of the points'],
  'admin.links.sheet': ['In danh sách đường dẫn (kèm mã QR)', 'Print the links (with QR codes)'],
  'admin.links.link': ['Đường dẫn', 'Link'],
  'admin.links.expires': ['Hết hạn', 'Expires'],
  'admin.links.empty': ['Hội nghị chưa mời điểm cầu nào.', 'No points are invited yet.'],
  'admin.copy': ['Sao chép', 'Copy'],
  'admin.copied': ['Đã chép', 'Copied'],
  'admin.reissue': ['Thu hồi, cấp mới', 'Revoke and reissue'],
  'admin.reissued': [
    'Đã cấp đường dẫn mới cho {name} ({closed} kết nối cũ bị ngắt). Hãy gửi đường dẫn mới cho điểm cầu.',
    'New link issued for {name} ({closed} old connections closed). Send the point its new link.',
  ],
  'admin.registry': ['Sổ điểm cầu theo tỉnh', 'Point registry by province'],
  'admin.registry.province': ['Tỉnh (mã)', 'Province (id)'],
  'admin.registry.file': ['Tệp CSV hoặc XLSX', 'CSV or XLSX file'],
  'admin.registry.mode': ['Cách nhập', 'Import mode'],
  'admin.registry.merge': ['Thêm và cập nhật', 'Add and update'],
  'admin.registry.replace': ['Thay toàn bộ', 'Replace all'],
  'admin.registry.import': ['Nhập tệp', 'Import'],
  'admin.registry.export.csv': ['Xuất CSV', 'Export CSV'],
  'admin.registry.export.xlsx': ['Xuất XLSX', 'Export XLSX'],
  'admin.registry.all': ['Chọn tất cả', 'Select all'],
  'admin.registry.district': ['Quận/huyện', 'District'],
  'admin.registry.phone': ['Điện thoại', 'Phone'],
  'admin.registry.delete': ['Xóa khỏi sổ', 'Delete from the registry'],
  'admin.registry.empty': [
    'Sổ của tỉnh này chưa có điểm cầu nào: hãy nhập tệp CSV hoặc XLSX.',
    'This province has no points yet: import a CSV or XLSX file.',
  ],
  'admin.registry.nofile': ['Hãy chọn tệp CSV hoặc XLSX.', 'Choose a CSV or XLSX file.'],
  'admin.registry.imported': [
    'Đã nhập: {created} điểm mới, {updated} cập nhật, {removed} bị xóa.',
    'Imported: {created} new, {updated} updated, {removed} removed.',
  ],
  'admin.registry.invite': ['Mời các điểm đã chọn vào hội nghị', 'Invite the chosen points to the conference'],
  'admin.registry.noconference': ['Hãy mở một hội nghị trước.', 'Open a conference first.'],
  'admin.registry.nothing': ['Chưa chọn điểm cầu nào.', 'No points are chosen.'],
  'admin.registry.invited': [
    'Đã mời {added} điểm mới; {title} có {total} điểm cầu.',
    'Invited {added} new points; {title} has {total} points.',
  ],
};

/** Returns the language of the page: the remembered choice, else Vietnamese. */
export function lang() {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    if (LANGS.includes(stored)) return stored;
  } catch {
    // Storage may be off (private mode); use the default.
  }
  return 'vi';
}

/** Returns the text of key in the page's language with {name} replaced from vars. */
export function t(key, vars) {
  const entry = TEXTS[key];
  if (!entry) {
    console.warn('hoinghi: no text for', key);
    return key;
  }
  const text = (lang() === 'en' ? entry[1] : entry[0]) || entry[0];
  if (!vars) return text;
  return text.replace(/\{(\w+)\}/g, (m, name) => (name in vars ? String(vars[name]) : m));
}

/** Returns vi or en, whichever fits the page's language (for texts that come from the server). */
export function pick(vi, en) {
  return lang() === 'en' && en ? en : vi;
}

/** Reports whether key has a text (for tests and optional texts). */
export function has(key) {
  return key in TEXTS;
}

/** Sets the static text of root (data-i18n, data-i18n-title, data-i18n-placeholder). */
export function applyTexts(root = document) {
  document.documentElement.lang = lang();
  for (const node of root.querySelectorAll('[data-i18n]')) node.textContent = t(node.dataset.i18n);
  for (const node of root.querySelectorAll('[data-i18n-title]')) node.title = t(node.dataset.i18nTitle);
  for (const node of root.querySelectorAll('[data-i18n-placeholder]')) node.placeholder = t(node.dataset.i18nPlaceholder);
  for (const node of root.querySelectorAll('[data-i18n-label]')) node.setAttribute('aria-label', t(node.dataset.i18nLabel));
}

/** Chooses language l, remembers it, re-applies the static text and fires "hoinghi:lang". */
export function setLang(l) {
  if (!LANGS.includes(l)) return;
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    // Not remembered; the page still switches.
  }
  applyTexts();
  window.dispatchEvent(new CustomEvent('hoinghi:lang', { detail: l }));
}

/**
 * Sets up the page's language: applies the static text now and makes button
 * (when given) switch to the next language on a click.
 */
export function initLang(button) {
  applyTexts();
  if (!button) return;
  button.addEventListener('click', () => {
    const next = LANGS[(LANGS.indexOf(lang()) + 1) % LANGS.length];
    setLang(next);
  });
}
