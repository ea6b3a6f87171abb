// Package records keeps JSON records in the rack's DynamoDB tables: one item
// per record, its key and index attributes as strings beside the JSON, so
// adding a field to a record never needs a table change.
package records

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
)

// API is the part of the DynamoDB client this package calls.
type API interface {
	PutItem(ctx context.Context, in *dynamodb.PutItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.PutItemOutput, error)
	GetItem(ctx context.Context, in *dynamodb.GetItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.GetItemOutput, error)
	DeleteItem(ctx context.Context, in *dynamodb.DeleteItemInput, opts ...func(*dynamodb.Options)) (*dynamodb.DeleteItemOutput, error)
	Query(ctx context.Context, in *dynamodb.QueryInput, opts ...func(*dynamodb.Options)) (*dynamodb.QueryOutput, error)
	Scan(ctx context.Context, in *dynamodb.ScanInput, opts ...func(*dynamodb.Options)) (*dynamodb.ScanOutput, error)
}

// ErrNotFound marks a key with no record.
var ErrNotFound = errors.New("no such record")

// ErrExists marks a Create whose key is taken.
var ErrExists = errors.New("record exists")

// Attribute names the rack's tables use.
const (
	// AppIndex is the builds and releases tables' index: hash "app", range "created".
	AppIndex = "app-created-index"
	attrData = "record"
)

// Table is one table with a string hash key.
type Table struct {
	API  API
	Name string
	// Key is the hash key attribute: "id" for builds and releases, "name" for apps.
	Key string
}

// Created formats t for the "created" range key: RFC 3339 in UTC with all nine
// fraction digits, so that string order is time order.
func Created(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000000Z07:00")
}

// item is the DynamoDB item for a record with key and extra string attributes.
func (t Table) item(key string, attrs map[string]string, record any) (map[string]types.AttributeValue, error) {
	data, err := json.Marshal(record)
	if err != nil {
		return nil, fmt.Errorf("encoding %s record %s: %w", t.Name, key, err)
	}
	item := map[string]types.AttributeValue{
		t.Key:    &types.AttributeValueMemberS{Value: key},
		attrData: &types.AttributeValueMemberS{Value: string(data)},
	}
	for k, v := range attrs {
		item[k] = &types.AttributeValueMemberS{Value: v}
	}
	return item, nil
}

// Put writes record under key with the given index attributes, replacing any record there.
func (t Table) Put(ctx context.Context, key string, attrs map[string]string, record any) error {
	item, err := t.item(key, attrs, record)
	if err != nil {
		return err
	}
	if _, err := t.API.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String(t.Name), Item: item}); err != nil {
		return fmt.Errorf("writing %s record %s: %w", t.Name, key, err)
	}
	return nil
}

// Create writes record under key only if the key is free; ErrExists otherwise.
func (t Table) Create(ctx context.Context, key string, attrs map[string]string, record any) error {
	item, err := t.item(key, attrs, record)
	if err != nil {
		return err
	}
	_, err = t.API.PutItem(ctx, &dynamodb.PutItemInput{
		TableName:                aws.String(t.Name),
		Item:                     item,
		ConditionExpression:      aws.String("attribute_not_exists(#k)"),
		ExpressionAttributeNames: map[string]string{"#k": t.Key},
	})
	var failed *types.ConditionalCheckFailedException
	if errors.As(err, &failed) {
		return fmt.Errorf("%s record %s: %w", t.Name, key, ErrExists)
	}
	if err != nil {
		return fmt.Errorf("writing %s record %s: %w", t.Name, key, err)
	}
	return nil
}

// ErrConflict marks an Update that kept losing to other writers.
var ErrConflict = errors.New("record changed by another writer")

// updateAttempts bounds how often Update re-reads a record others keep changing;
// between attempts it waits a random while that grows with each attempt, so
// writers that collided do not collide again in step.
const updateAttempts = 20

// Update reads the record under key into record (a pointer), lets change
// modify it, and writes it back only if the stored record is still the one it
// read: a conditional write on the stored JSON, so two writers never lose each
// other's changes. When another writer came first it reads again and calls
// change again. The item's other attributes (the index keys) stay as they are.
// ErrNotFound when there is no record; change's error stops it.
func (t Table) Update(ctx context.Context, key string, record any, change func() error) error {
	target := reflect.ValueOf(record)
	if target.Kind() != reflect.Pointer || target.IsNil() {
		return fmt.Errorf("updating %s record %s: a pointer to a record is needed", t.Name, key)
	}
	for attempt := range updateAttempts {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return fmt.Errorf("updating %s record %s: %w", t.Name, key, ctx.Err())
			case <-time.After(time.Duration(rand.Int64N(int64(attempt)*int64(10*time.Millisecond)) + 1)):
			}
		}
		out, err := t.API.GetItem(ctx, &dynamodb.GetItemInput{
			TableName:      aws.String(t.Name),
			Key:            map[string]types.AttributeValue{t.Key: &types.AttributeValueMemberS{Value: key}},
			ConsistentRead: aws.Bool(true),
		})
		if err != nil {
			return fmt.Errorf("reading %s record %s: %w", t.Name, key, err)
		}
		old, ok := out.Item[attrData].(*types.AttributeValueMemberS)
		if out.Item == nil || !ok {
			return fmt.Errorf("%s record %s: %w", t.Name, key, ErrNotFound)
		}
		target.Elem().SetZero()
		if err := t.decode(out.Item, record); err != nil {
			return err
		}
		if err := change(); err != nil {
			return err
		}
		data, err := json.Marshal(record)
		if err != nil {
			return fmt.Errorf("encoding %s record %s: %w", t.Name, key, err)
		}
		item := maps.Clone(out.Item)
		item[attrData] = &types.AttributeValueMemberS{Value: string(data)}
		_, err = t.API.PutItem(ctx, &dynamodb.PutItemInput{
			TableName:                 aws.String(t.Name),
			Item:                      item,
			ConditionExpression:       aws.String("#r = :old"),
			ExpressionAttributeNames:  map[string]string{"#r": attrData},
			ExpressionAttributeValues: map[string]types.AttributeValue{":old": &types.AttributeValueMemberS{Value: old.Value}},
		})
		var failed *types.ConditionalCheckFailedException
		if errors.As(err, &failed) {
			continue
		}
		if err != nil {
			return fmt.Errorf("writing %s record %s: %w", t.Name, key, err)
		}
		return nil
	}
	return fmt.Errorf("%s record %s: %w", t.Name, key, ErrConflict)
}

// Get reads the record under key into record; ErrNotFound when there is none.
func (t Table) Get(ctx context.Context, key string, record any) error {
	out, err := t.API.GetItem(ctx, &dynamodb.GetItemInput{
		TableName:      aws.String(t.Name),
		Key:            map[string]types.AttributeValue{t.Key: &types.AttributeValueMemberS{Value: key}},
		ConsistentRead: aws.Bool(true),
	})
	if err != nil {
		return fmt.Errorf("reading %s record %s: %w", t.Name, key, err)
	}
	if out.Item == nil {
		return fmt.Errorf("%s record %s: %w", t.Name, key, ErrNotFound)
	}
	return t.decode(out.Item, record)
}

// Delete removes the record under key, if any.
func (t Table) Delete(ctx context.Context, key string) error {
	_, err := t.API.DeleteItem(ctx, &dynamodb.DeleteItemInput{
		TableName: aws.String(t.Name),
		Key:       map[string]types.AttributeValue{t.Key: &types.AttributeValueMemberS{Value: key}},
	})
	if err != nil {
		return fmt.Errorf("deleting %s record %s: %w", t.Name, key, err)
	}
	return nil
}

// decode unmarshals an item's JSON into record.
func (t Table) decode(item map[string]types.AttributeValue, record any) error {
	data, ok := item[attrData].(*types.AttributeValueMemberS)
	if !ok {
		return fmt.Errorf("%s item without %q attribute", t.Name, attrData)
	}
	if err := json.Unmarshal([]byte(data.Value), record); err != nil {
		return fmt.Errorf("decoding %s record: %w", t.Name, err)
	}
	return nil
}

// All calls each with every record of the table, page by page.
func (t Table) All(ctx context.Context, each func(decode func(record any) error) error) error {
	var start map[string]types.AttributeValue
	for {
		out, err := t.API.Scan(ctx, &dynamodb.ScanInput{TableName: aws.String(t.Name), ExclusiveStartKey: start, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return fmt.Errorf("scanning %s: %w", t.Name, err)
		}
		for _, item := range out.Items {
			if err := each(func(record any) error { return t.decode(item, record) }); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		start = out.LastEvaluatedKey
	}
}

// Newest calls each with up to limit records of app from AppIndex, newest first.
func (t Table) Newest(ctx context.Context, app string, limit int, each func(decode func(record any) error) error) error {
	var start map[string]types.AttributeValue
	seen := 0
	for seen < limit {
		out, err := t.API.Query(ctx, &dynamodb.QueryInput{
			TableName:                 aws.String(t.Name),
			IndexName:                 aws.String(AppIndex),
			KeyConditionExpression:    aws.String("#app = :app"),
			ExpressionAttributeNames:  map[string]string{"#app": "app"},
			ExpressionAttributeValues: map[string]types.AttributeValue{":app": &types.AttributeValueMemberS{Value: app}},
			ScanIndexForward:          aws.Bool(false),
			Limit:                     aws.Int32(int32(limit - seen)),
			ExclusiveStartKey:         start,
		})
		if err != nil {
			return fmt.Errorf("querying %s for app %s: %w", t.Name, app, err)
		}
		for _, item := range out.Items {
			if seen == limit {
				break
			}
			seen++
			if err := each(func(record any) error { return t.decode(item, record) }); err != nil {
				return err
			}
		}
		if len(out.LastEvaluatedKey) == 0 {
			return nil
		}
		start = out.LastEvaluatedKey
	}
	return nil
}
