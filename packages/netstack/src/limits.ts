// Every bound of the network stack, as a named constant (the house rule: a limit on everything, with a
// clear error or log line past it).

/** Bytes of one segment: what netif reads from a host socket is cut into messages of at most this. */
export const netSegmentBytesMax = 16 * 1024;
/** Connections one netif holds at once; one more is refused at netif (closed at once, one log line). */
export const netConnectionsMax = 4096;
/** Connections one netif may be configured to hold. */
export const netConnectionsLimitMax = 65_536;
/** Listening ports of one netif (and of one netstack fleet). */
export const netListenersMax = 256;
/**
 * Bytes netif holds for one connection before the fleet's member is ready (its name registered): the
 * host socket is paused past it.
 */
export const netPendingBytesMax = 256 * 1024;
/** `incoming` hand-overs netif has in flight to the fleet at once; further new connections wait at netif. */
export const netHandoversInFlightMax = 64;
/** Members netif asks in turn when the one it picked is leaving the fleet (answers `SHUTDOWN`). */
export const netHandoverAttemptsMax = 4;
/** Bytes a member pushes to the owning process ahead of its acknowledgement (the receive window). */
export const netReceiveWindowBytes = 64 * 1024;
/**
 * Bytes a member buffers for one connection (received, not yet pushed): past it, the member asks netif
 * to pause the host socket; it resumes it below half.
 */
export const netReceiveBufferBytes = 256 * 1024;
/** Accepted connections a listener queues for `accept()` by default (`listen`'s `backlog`). */
export const netBacklogDefault = 511;
/** The largest `backlog` a listener may ask for. */
export const netBacklogMax = 4096;
/**
 * Mailboxes of one member that its connections' names lead to, each under a direct name (an alias)
 * `/sys/netstack/<n>/c<i>`. Two bounds meet here. The kernel checks the intended name of every
 * delivery, so a connection's name is a valid name of the mailbox it leads to, and a mailbox holds at
 * most `namesPerMailboxMax` (256) names. And the name service keeps every edge both ways, so each
 * registration writes the entry of the name it leads to: one name per member would be a hot key that
 * every registration of the member writes. Spread over the aliases, a member holds this many times
 * more connections, and their registrations run side by side (one at a time per alias).
 */
export const netMemberAliases = 32;
/** Connections whose names lead to one alias: its mailbox's other names (`namesPerMailboxMax` − 1). */
export const netConnectionsPerAlias = 255;
/** Connections of one netstack member. */
export const netConnectionsPerMemberMax = netMemberAliases * netConnectionsPerAlias;
/** Members of one netstack fleet. */
export const netMembersMax = 64;
/** How long a leaving member lets its connections finish before it resets the rest and exits. */
export const netLeaveGraceMsDefault = 5000;
/** The longest leave grace a fleet may be configured with. */
export const netLeaveGraceMsMax = 600_000;
/** Times a member tries to register a connection's name that is still taken (a 4-tuple reused at once). */
export const netRegisterAttemptsMax = 5;
/** Milliseconds between those tries (doubled each time). */
export const netRegisterBackoffMs = 20;
/** Bytes of a host name `connect` takes. */
export const netHostBytesMax = 255;
