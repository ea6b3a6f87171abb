package structs

// EventSendOptions carry the data and status of a rack event.
type EventSendOptions struct {
	Data   map[string]string `param:"data"`
	Error  *string           `param:"error"`
	Status *string           `param:"status"`
}
