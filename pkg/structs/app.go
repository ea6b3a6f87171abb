package structs

// App is a named application with its build generation and active release.
type App struct {
	Name       string `json:"name"`
	Generation string `json:"generation"`
	Release    string `json:"release"`
	Status     string `json:"status"`
}

// Apps is a list of apps.
type Apps []App

// AppCreateOptions describe a new app; Generation is "2" unless "1" is asked for.
type AppCreateOptions struct {
	Generation *string `flag:"generation,g" param:"generation"`
}
