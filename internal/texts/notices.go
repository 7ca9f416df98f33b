package texts

import "github.com/zhibu/zhibu/domain/health"

// Notices is what the health check's notices say (notices.yaml): yellow
// reminders, red supervision digests, resolved notices, green prompts and
// their 收到 buttons. domain/health, which builds them, declares the keys
// (it imports only the standard library, so it gets the words from here
// through the app: health.NewWording).
var Notices = MustLoad("notices", health.WordingKeys())
